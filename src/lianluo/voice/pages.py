"""The agent's phone panel (/voice/phone): ready button and the screen pop of a ringing call."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lianluo.deps import Context, DbSession, get_principal
from lianluo.errors import Unauthorized
from lianluo.models import Agent, VoicePhone
from lianluo.voice.repository import voice_repository as repo
from lianluo.web.i18n import STRINGS
from lianluo.web.pages import render

router = APIRouter(include_in_schema=False)

# The page's strings join web/i18n.py's table here, so that this module's strings do not
# collide with other modules' additions to that file.
STRINGS.update(
    {
        "voice_title": {"zh": "座席电话", "en": "Agent phone"},
        "voice_phone": {"zh": "话机", "en": "Phone"},
        "voice_no_phone": {"zh": "尚未配置话机", "en": "No phone configured"},
        "voice_not_agent": {"zh": "您的账号不是座席", "en": "Your user is not an agent"},
        "voice_ready": {"zh": "就绪", "en": "Ready"},
        "voice_break": {"zh": "小休", "en": "Break"},
        "voice_state": {"zh": "状态", "en": "State"},
        "voice_idle": {"zh": "等待来电", "en": "Waiting for calls"},
        "voice_offered": {"zh": "来电振铃", "en": "Ringing"},
        "voice_connected": {"zh": "通话中", "en": "On the call"},
        "voice_wrap_up": {"zh": "话后处理", "en": "Wrap-up"},
        "voice_caller": {"zh": "来电号码", "en": "Caller"},
        "voice_dialled": {"zh": "拨打号码", "en": "Dialled"},
        "voice_ivr_path": {"zh": "语音导航", "en": "IVR path"},
        "voice_customer": {"zh": "客户", "en": "Customer"},
        "voice_tier": {"zh": "客户等级", "en": "Tier"},
        "voice_churn": {"zh": "流失风险", "en": "Churn risk"},
        "voice_tags": {"zh": "标签", "en": "Tags"},
        "voice_history": {"zh": "历史联络", "en": "Contacts so far"},
        "voice_recent": {"zh": "最近会话", "en": "Recent conversations"},
        "voice_callback": {"zh": "预约回电", "en": "Callback"},
        "voice_error": {"zh": "无法获取数据", "en": "Could not load data"},
        "voice_home": {"zh": "首页", "en": "Home"},
        # the desk's call panel (web/static/desk_voice.js)
        "desk_call": {"zh": "电话", "en": "Call"},
        "desk_call_offered": {"zh": "来电振铃", "en": "Ringing"},
        "desk_call_connected": {"zh": "通话中", "en": "On the call"},
        "desk_call_on_hold": {"zh": "保持中", "en": "On hold"},
        "desk_call_consulting": {"zh": "咨询中", "en": "Consulting"},
        "desk_call_wrap_up": {"zh": "话后处理", "en": "Wrap-up"},
        "desk_call_caller": {"zh": "来电号码", "en": "Caller"},
        "desk_call_dialled": {"zh": "拨打号码", "en": "Dialled"},
        "desk_call_ivr": {"zh": "语音导航", "en": "IVR path"},
        "desk_call_tier": {"zh": "客户等级", "en": "Tier"},
        "desk_call_churn": {"zh": "流失风险", "en": "Churn risk"},
        "desk_call_tags": {"zh": "标签", "en": "Tags"},
        "desk_call_history": {"zh": "历史联络", "en": "Contacts so far"},
        "desk_call_answer_phone": {
            "zh": "请点击接听或在话机上接听",
            "en": "Answer here or on your phone",
        },
        "desk_call_answer": {"zh": "接听", "en": "Answer"},
        "desk_call_answering": {"zh": "正在接通您的话机…", "en": "Connecting your phone…"},
        "desk_call_hold": {"zh": "保持", "en": "Hold"},
        "desk_call_resume": {"zh": "恢复通话", "en": "Resume"},
        "desk_call_hangup": {"zh": "挂断", "en": "Hang up"},
        "desk_call_blind": {"zh": "直接转接", "en": "Blind transfer"},
        "desk_call_consult": {"zh": "咨询转接", "en": "Consult"},
        "desk_call_complete": {"zh": "完成转接", "en": "Complete transfer"},
        "desk_call_cancel": {"zh": "取消咨询", "en": "Cancel consultation"},
    }
)


@router.get("/voice/phone", response_class=HTMLResponse)
def phone_page(request: Request, session: DbSession, ctx: Context) -> Response:
    try:
        principal = get_principal(request, session, ctx)
    except Unauthorized:
        return RedirectResponse("/login?next=/voice/phone", status_code=303)
    agent: Agent | None = repo.agent_of_user(session, principal.tenant_id, principal.user_id)
    phone: VoicePhone | None = (
        repo.phone_of_agent(session, principal.tenant_id, agent.id) if agent else None
    )
    return render(
        request,
        "voice_phone.html",
        username=principal.username,
        is_agent=agent is not None,
        sip_user=phone.sip_user if phone else "",
        realm=phone.realm if phone else "",
    )
