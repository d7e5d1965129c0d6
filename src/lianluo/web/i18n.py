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
    # --- tickets pages ---
    "tk_title": {"zh": "工单", "en": "Tickets"},
    "tk_list": {"zh": "列表", "en": "List"},
    "tk_board": {"zh": "看板", "en": "Board"},
    "tk_filter": {"zh": "筛选", "en": "Filter"},
    "tk_any": {"zh": "全部", "en": "Any"},
    "tk_status": {"zh": "状态", "en": "Status"},
    "tk_priority": {"zh": "优先级", "en": "Priority"},
    "tk_category": {"zh": "类别", "en": "Category"},
    "tk_tier": {"zh": "层级", "en": "Tier"},
    "tk_sla": {"zh": "时限", "en": "SLA"},
    "tk_mine": {"zh": "只看我的", "en": "Mine only"},
    "tk_search": {"zh": "标题关键字", "en": "Subject contains"},
    "tk_subject": {"zh": "标题", "en": "Subject"},
    "tk_owner": {"zh": "负责人", "en": "Owner"},
    "tk_unowned": {"zh": "待领取", "en": "Unassigned"},
    "tk_due": {"zh": "到期", "en": "Due"},
    "tk_created": {"zh": "创建时间", "en": "Created"},
    "tk_total": {"zh": "共", "en": "Total"},
    "tk_none": {"zh": "没有工单", "en": "No tickets"},
    "tk_forbidden": {
        "zh": "只有座席、主管、质检和管理员可以查看工单",
        "en": "Only agents, supervisors, QA and admins may open tickets",
    },
    "tk_not_found": {"zh": "没有找到这张工单", "en": "Ticket not found"},
    "tk_status_new": {"zh": "新建", "en": "New"},
    "tk_status_in_progress": {"zh": "处理中", "en": "In progress"},
    "tk_status_waiting_customer": {"zh": "等待客户", "en": "Waiting on customer"},
    "tk_status_resolved": {"zh": "已解决", "en": "Resolved"},
    "tk_status_closed": {"zh": "已关闭", "en": "Closed"},
    "tk_status_merged": {"zh": "已合并", "en": "Merged"},
    "tk_priority_low": {"zh": "低", "en": "Low"},
    "tk_priority_normal": {"zh": "普通", "en": "Normal"},
    "tk_priority_high": {"zh": "高", "en": "High"},
    "tk_priority_urgent": {"zh": "紧急", "en": "Urgent"},
    "tk_sla_ok": {"zh": "正常", "en": "On time"},
    "tk_sla_warning": {"zh": "即将超时", "en": "Due soon"},
    "tk_sla_breached": {"zh": "已超时", "en": "Breached"},
    "tk_sla_paused": {"zh": "暂停计时", "en": "Paused"},
    "tk_sla_stopped": {"zh": "已停止", "en": "Stopped"},
    "tk_model_first_contact": {"zh": "首问负责", "en": "First-contact ownership"},
    "tk_model_tiered": {"zh": "分级处理", "en": "Tiered"},
    "tk_repeat": {"zh": "重复投诉", "en": "Repeat complaint"},
    "tk_over_the_head": {"zh": "越级投诉", "en": "Over-the-head complaint"},
    "tk_customer": {"zh": "客户", "en": "Customer"},
    "tk_model": {"zh": "负责模式", "en": "Ownership"},
    "tk_description": {"zh": "描述", "en": "Description"},
    "tk_conversation": {"zh": "备注与回复", "en": "Notes and replies"},
    "tk_note": {"zh": "内部备注", "en": "Internal note"},
    "tk_reply": {"zh": "回复客户", "en": "Reply to customer"},
    "tk_add": {"zh": "添加", "en": "Add"},
    "tk_history": {"zh": "处理记录", "en": "History"},
    "tk_attachments": {"zh": "附件", "en": "Attachments"},
    "tk_upload": {"zh": "上传", "en": "Upload"},
    "tk_callbacks": {"zh": "回访承诺", "en": "Promised call-backs"},
    "tk_callback": {"zh": "稍后回电", "en": "Call back later"},
    "tk_callback_hours": {"zh": "工作小时后", "en": "Business hours from now"},
    "tk_done": {"zh": "已完成", "en": "Done"},
    "tk_actions": {"zh": "操作", "en": "Actions"},
    "tk_move_to": {"zh": "变更状态为", "en": "Move to"},
    "tk_apply": {"zh": "确定", "en": "Apply"},
    "tk_take": {"zh": "领取", "en": "Take it"},
    "tk_escalate": {"zh": "升级", "en": "Escalate"},
    "tk_csat": {"zh": "满意度", "en": "Satisfaction"},
    "tk_rate": {"zh": "记录评分", "en": "Record rating"},
    "tk_saved": {"zh": "已保存", "en": "Saved"},
    "tk_error": {"zh": "出错了", "en": "Error"},
    "tk_back": {"zh": "返回工单列表", "en": "Back to tickets"},
    "tk_reopens": {"zh": "重开次数", "en": "Re-opens"},
    "tk_escalations": {"zh": "升级次数", "en": "Escalations"},
    # --- end tickets pages ---
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
