"""Chinese and English UI strings; the language comes from ?lang=, a cookie or Accept-Language."""

from __future__ import annotations

from fastapi import Request

LANGUAGES = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    "app_name": {"zh": "联络 Lianluo", "en": "Lianluo 联络"},
    "login_title": {"zh": "登录", "en": "Sign in"},
    "username": {"zh": "用户名", "en": "Username"},
    "password": {"zh": "密码", "en": "Password"},
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "sign_out": {"zh": "退出", "en": "Sign out"},
    "welcome": {"zh": "欢迎", "en": "Welcome"},
    "roles": {"zh": "角色", "en": "Roles"},
    "api_docs": {"zh": "API 文档", "en": "API documentation"},
    "switch_lang": {"zh": "English", "en": "中文"},
    "login_failed": {"zh": "用户名或密码错误", "en": "Wrong username or password"},
    "too_many": {"zh": "登录失败次数过多，请稍后再试", "en": "Too many failed logins; try later"},
    # --- wfm page ---
    "wfm_title": {"zh": "排班管理", "en": "Workforce management"},
    "wfm_nav": {"zh": "排班", "en": "WFM"},
    "wfm_home": {"zh": "首页", "en": "Home"},
    "wfm_forecast": {"zh": "话务预测与实际", "en": "Forecast against actual"},
    "wfm_queue": {"zh": "队列", "en": "Queue"},
    "wfm_all_queues": {"zh": "全部队列", "en": "All queues"},
    "wfm_interval_min": {"zh": "时段（分钟）", "en": "Interval (min)"},
    "wfm_horizon": {"zh": "预测天数", "en": "Days ahead"},
    "wfm_refresh": {"zh": "刷新预测", "en": "Refresh forecast"},
    "wfm_model": {"zh": "模型", "en": "Model"},
    "wfm_wape": {"zh": "回测 WAPE", "en": "Backtest WAPE"},
    "wfm_actual": {"zh": "实际", "en": "Actual"},
    "wfm_forecast_line": {"zh": "预测", "en": "Forecast"},
    "wfm_contacts": {"zh": "话务量", "en": "Contacts"},
    "wfm_requirement": {"zh": "需求座席与排班", "en": "Required against scheduled agents"},
    "wfm_required": {"zh": "需求座席", "en": "Required"},
    "wfm_scheduled": {"zh": "已排班", "en": "Scheduled"},
    "wfm_build_schedule": {"zh": "按预测生成排班", "en": "Build schedule from forecast"},
    "wfm_agents": {"zh": "座席数", "en": "Agents"},
    "wfm_paid_hours": {"zh": "付薪工时", "en": "Paid hours"},
    "wfm_gap": {"zh": "与下界差距", "en": "Gap to bound"},
    "wfm_calculator": {"zh": "座席需求计算器", "en": "Staffing calculator"},
    "wfm_rate": {"zh": "每时段来话量", "en": "Contacts per interval"},
    "wfm_aht": {"zh": "平均处理时长（秒）", "en": "AHT (s)"},
    "wfm_target_sl": {"zh": "服务水平目标（%）", "en": "Service-level target (%)"},
    "wfm_target_time": {"zh": "目标应答时间（秒）", "en": "Answer within (s)"},
    "wfm_patience": {"zh": "平均耐心时长（秒，可选）", "en": "Mean patience (s, optional)"},
    "wfm_calculate": {"zh": "计算", "en": "Calculate"},
    "wfm_required_agents": {"zh": "所需座席", "en": "Agents needed"},
    "wfm_service_level": {"zh": "服务水平", "en": "Service level"},
    "wfm_asa": {"zh": "平均应答速度（秒）", "en": "ASA (s)"},
    "wfm_occupancy": {"zh": "占用率", "en": "Occupancy"},
    "wfm_adherence": {"zh": "排班遵守率", "en": "Schedule adherence"},
    "wfm_team": {"zh": "班组", "en": "Team"},
    "wfm_all_teams": {"zh": "全部班组", "en": "All teams"},
    "wfm_since": {"zh": "开始", "en": "From"},
    "wfm_until": {"zh": "结束", "en": "To"},
    "wfm_compute_adherence": {"zh": "计算遵守率", "en": "Compute adherence"},
    "wfm_agent": {"zh": "座席", "en": "Agent"},
    "wfm_conformance": {"zh": "出勤符合率", "en": "Conformance"},
    "wfm_deviations": {"zh": "偏差次数", "en": "Deviations"},
    "wfm_need_schedule": {
        "zh": "请先生成排班（班次会分配给座席）",
        "en": "Build a schedule first (its tours go to agents)",
    },
    "wfm_loading": {"zh": "计算中…", "en": "Working…"},
    "wfm_error": {"zh": "出错了", "en": "Error"},
    "wfm_no_rows": {"zh": "没有数据", "en": "No rows"},
    "wfm_forbidden": {
        "zh": "只有排班、主管和管理员角色可以访问排班页面",
        "en": "Only WFM, supervisor and admin users may open the WFM page",
    },
    # --- end wfm page ---
    # --- wall page and admin pages ---
    "wall_title": {"zh": "实时监控大屏", "en": "Supervisor wallboard"},
    "wall_forbidden": {
        "zh": "只有主管、质检、排班和管理员角色可以查看实时大屏",
        "en": "Only supervisor, QA, WFM and admin users may open the wallboard",
    },
    "wall_live": {"zh": "实时", "en": "Live"},
    "wall_connecting": {"zh": "连接中…", "en": "Connecting…"},
    "wall_offline": {"zh": "连接中断，正在重连…", "en": "Disconnected; reconnecting…"},
    "wall_totals": {"zh": "今日合计", "en": "Today"},
    "wall_queues": {"zh": "队列", "en": "Queues"},
    "wall_waiting": {"zh": "排队中", "en": "Waiting"},
    "wall_longest": {"zh": "最长等待", "en": "Longest wait"},
    "wall_sl": {"zh": "服务水平", "en": "Service level"},
    "wall_target": {"zh": "目标", "en": "Target"},
    "wall_offered": {"zh": "进线", "en": "Offered"},
    "wall_answered": {"zh": "接听", "en": "Answered"},
    "wall_abandoned": {"zh": "放弃", "en": "Abandoned"},
    "wall_handled": {"zh": "已处理", "en": "Handled"},
    "wall_asa": {"zh": "平均应答", "en": "ASA"},
    "wall_aht": {"zh": "平均处理时长", "en": "AHT"},
    "wall_ringing": {"zh": "振铃", "en": "Ringing"},
    "wall_connected": {"zh": "通话/会话中", "en": "Connected"},
    "wall_agents_by_state": {"zh": "座席状态", "en": "Agents by state"},
    "wall_agents": {"zh": "座席实时列表", "en": "Agents now"},
    "wall_agent": {"zh": "座席", "en": "Agent"},
    "wall_team": {"zh": "班组", "en": "Team"},
    "wall_state": {"zh": "状态", "en": "State"},
    "wall_time_in_state": {"zh": "状态时长", "en": "Time in state"},
    "wall_work": {"zh": "当前工作", "en": "Current work"},
    "wall_chart": {"zh": "最近数小时（每 15 分钟）", "en": "Last hours (per 15 min)"},
    "wall_chart_queue": {"zh": "图表队列", "en": "Chart queue"},
    "wall_all_queues": {"zh": "全部队列", "en": "All queues"},
    "wall_no_queues": {"zh": "没有可显示的队列", "en": "No queues to show"},
    "wall_no_agents": {"zh": "没有座席", "en": "No agents"},
    "state_available": {"zh": "空闲", "en": "Available"},
    "state_busy": {"zh": "忙碌", "en": "Busy"},
    "state_wrap_up": {"zh": "话后处理", "en": "Wrap-up"},
    "state_break": {"zh": "小休", "en": "Break"},
    "state_offline": {"zh": "离线", "en": "Offline"},
    "contact_offered": {"zh": "振铃", "en": "ringing"},
    "contact_connected": {"zh": "处理中", "en": "connected"},
    "contact_wrap_up": {"zh": "话后", "en": "wrap-up"},
    # --- end wall page ---
}


def pick_language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get("lianluo_lang")
    if asked in LANGUAGES:
        return asked
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "zh"


def translator(lang: str):  # type: ignore[no-untyped-def]
    def t(key: str) -> str:
        return STRINGS.get(key, {}).get(lang, key)

    return t
