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
    # --- kb pages ---
    "kb_title": {"zh": "知识库", "en": "Knowledge base"},
    "kb_search": {"zh": "搜索", "en": "Search"},
    "kb_search_placeholder": {
        "zh": "输入问题或关键词，如：套餐变更",
        "en": "A question or keywords, e.g. roaming",
    },
    "kb_query": {"zh": "搜索知识库", "en": "Search the knowledge base"},
    "kb_language": {"zh": "语言", "en": "Language"},
    "kb_all_languages": {"zh": "全部语言", "en": "All languages"},
    "kb_lang_zh": {"zh": "中文", "en": "Chinese"},
    "kb_lang_en": {"zh": "英文", "en": "English"},
    "kb_results": {"zh": "条结果", "en": "results"},
    "kb_no_results": {"zh": "没有找到相关文章", "en": "No matching articles"},
    "kb_recent": {"zh": "最新文章", "en": "Recent articles"},
    "kb_new": {"zh": "写文章", "en": "New article"},
    "kb_review_queue": {"zh": "审核队列", "en": "Review queue"},
    "kb_in_review": {"zh": "待审核", "en": "Awaiting review"},
    "kb_community_drafts": {
        "zh": "社区投稿（待座席审阅）",
        "en": "Community submissions (to review)",
    },
    "kb_nothing_waiting": {"zh": "没有待处理的文章", "en": "Nothing waiting"},
    "kb_helpful_q": {"zh": "这篇文章有帮助吗？", "en": "Was this article helpful?"},
    "kb_helpful": {"zh": "有帮助", "en": "Helpful"},
    "kb_not_helpful": {"zh": "没帮助", "en": "Not helpful"},
    "kb_thanks": {"zh": "感谢反馈", "en": "Thanks for the feedback"},
    "kb_edit": {"zh": "编辑", "en": "Edit"},
    "kb_category": {"zh": "分类", "en": "Category"},
    "kb_tags": {"zh": "标签（逗号分隔）", "en": "Tags (comma separated)"},
    "kb_title_field": {"zh": "标题", "en": "Title"},
    "kb_body": {"zh": "正文（Markdown）", "en": "Body (Markdown)"},
    "kb_preview": {"zh": "预览", "en": "Preview"},
    "kb_note": {"zh": "修改说明", "en": "What changed"},
    "kb_save": {"zh": "保存", "en": "Save"},
    "kb_saved": {"zh": "已保存", "en": "Saved"},
    "kb_submit": {"zh": "提交审核", "en": "Submit for review"},
    "kb_publish": {"zh": "发布", "en": "Publish"},
    "kb_send_back": {"zh": "退回修改", "en": "Send back"},
    "kb_archive": {"zh": "归档", "en": "Archive"},
    "kb_versions": {"zh": "版本历史", "en": "Versions"},
    "kb_version": {"zh": "版本", "en": "Version"},
    "kb_restore": {"zh": "恢复此版本", "en": "Restore"},
    "kb_status": {"zh": "状态", "en": "Status"},
    "kb_status_draft": {"zh": "草稿", "en": "Draft"},
    "kb_status_review": {"zh": "待审核", "en": "In review"},
    "kb_status_published": {"zh": "已发布", "en": "Published"},
    "kb_status_archived": {"zh": "已归档", "en": "Archived"},
    "kb_origin_community": {"zh": "社区投稿", "en": "Community"},
    "kb_published_version": {"zh": "线上版本", "en": "Live version"},
    "kb_updated": {"zh": "更新于", "en": "Updated"},
    "kb_not_found": {"zh": "文章不存在或未发布", "en": "No such article, or it is not published"},
    "kb_forbidden": {
        "zh": "只有本租户的座席、主管和管理员可以编辑知识库",
        "en": "Only the tenant's agents, supervisors and admins edit the knowledge base",
    },
    "kb_back": {"zh": "返回知识库", "en": "Back to the knowledge base"},
    "kb_suggestions": {"zh": "推荐文章", "en": "Suggested articles"},
    "kb_error": {"zh": "出错了", "en": "Error"},
    # --- end kb pages ---
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
