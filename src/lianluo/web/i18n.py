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
    # --- reports page ---
    "rep_title": {"zh": "报表与历史数据分析", "en": "Reports and history"},
    "rep_nav": {"zh": "报表", "en": "Reports"},
    "rep_from": {"zh": "开始日期", "en": "From"},
    "rep_to": {"zh": "结束日期", "en": "To"},
    "rep_grain": {"zh": "粒度", "en": "Grain"},
    "rep_group": {"zh": "分组", "en": "Group by"},
    "rep_queue": {"zh": "队列", "en": "Queue"},
    "rep_channel": {"zh": "渠道", "en": "Channel"},
    "rep_all": {"zh": "全部", "en": "All"},
    "rep_apply": {"zh": "查询", "en": "Run report"},
    "rep_grain_15min": {"zh": "15 分钟", "en": "15 min"},
    "rep_grain_30min": {"zh": "30 分钟", "en": "30 min"},
    "rep_grain_60min": {"zh": "1 小时", "en": "1 hour"},
    "rep_grain_day": {"zh": "日", "en": "Day"},
    "rep_grain_week": {"zh": "周", "en": "Week"},
    "rep_grain_month": {"zh": "月", "en": "Month"},
    "rep_group_none": {"zh": "不分组", "en": "None"},
    "rep_group_queue": {"zh": "队列", "en": "Queue"},
    "rep_group_agent": {"zh": "座席", "en": "Agent"},
    "rep_group_partner": {"zh": "外包商", "en": "Partner"},
    "rep_group_channel": {"zh": "渠道", "en": "Channel"},
    "rep_volume": {"zh": "话务量", "en": "Contact volume"},
    "rep_quality": {"zh": "服务水平与接通率", "en": "Service level and connect rate"},
    "rep_table": {"zh": "明细", "en": "Details"},
    "rep_period": {"zh": "时段", "en": "Period"},
    "rep_group_col": {"zh": "分组", "en": "Group"},
    "rep_offered": {"zh": "呼入量", "en": "Offered"},
    "rep_answered": {"zh": "接通量", "en": "Answered"},
    "rep_abandoned": {"zh": "放弃量", "en": "Abandoned"},
    "rep_connect_rate": {"zh": "接通率", "en": "Connect rate"},
    "rep_service_level": {"zh": "服务水平", "en": "Service level"},
    "rep_asa": {"zh": "平均应答速度（秒）", "en": "ASA (s)"},
    "rep_aht": {"zh": "平均处理时长（秒）", "en": "AHT (s)"},
    "rep_fcr": {"zh": "首次解决率", "en": "FCR"},
    "rep_effectiveness": {"zh": "效能", "en": "Effectiveness"},
    "rep_csat": {"zh": "满意度", "en": "CSAT"},
    "rep_occupancy": {"zh": "占用率", "en": "Occupancy"},
    "rep_total": {"zh": "合计", "en": "Total"},
    "rep_download": {"zh": "下载", "en": "Download"},
    "rep_contacts": {
        "zh": "联络明细（点击表格中的呼入量）",
        "en": "Contacts (click an Offered count)",
    },
    "rep_contact": {"zh": "联络", "en": "Contact"},
    "rep_outcome": {"zh": "结果", "en": "Outcome"},
    "rep_wait": {"zh": "等待（秒）", "en": "Wait (s)"},
    "rep_handle": {"zh": "处理（秒）", "en": "Handle (s)"},
    "rep_loading": {"zh": "加载中…", "en": "Loading…"},
    "rep_error": {"zh": "出错了", "en": "Error"},
    "rep_no_rows": {"zh": "没有数据", "en": "No rows"},
    "rep_forbidden": {
        "zh": "只有主管、排班、管理员和外包管理员可以查看报表",
        "en": "Only supervisors, WFM, admins and partner admins may open reports",
    },
    # --- end reports page ---
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
