"""Calls the endpoint places (agent phones, callbacks), against a bare UDP phone: the
auto-answer request, a ringing call cancelled by the task that awaits it (CANCEL, and the
phone's 487 acknowledged), an answer that crosses the CANCEL (acknowledged, then hung up),
and a ring timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from lianluo.channels.voice import sip
from lianluo.channels.voice.media import CallEnded
from lianluo.channels.voice.server import Call, SipEndpoint
from tests.channels.voice.test_sip_robustness import SDP, Peer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def endpoint() -> AsyncIterator[SipEndpoint]:
    async def on_call(call: Call) -> None:  # no inbound calls in these tests
        await call.hangup(403)

    ep = SipEndpoint(on_call)
    await ep.start(tcp=False)
    yield ep
    await ep.close()


@pytest.fixture
def phone(endpoint: SipEndpoint) -> AsyncIterator[Peer]:
    peer = Peer(endpoint.port)
    yield peer
    peer.close()


def dial(endpoint: SipEndpoint, phone: Peer, **kw: object) -> asyncio.Task[Call]:
    return asyncio.ensure_future(
        endpoint.dial(f"sip:1001@127.0.0.1:{phone.port}", ("127.0.0.1", phone.port), **kw)  # type: ignore[arg-type]
    )


def respond(phone: Peer, request: sip.SipMessage, status: int, sdp: bool = False) -> None:
    response = sip.response_to(request, status, to_tag="phone1")
    if sdp:
        response.add("Contact", f"<sip:1001@127.0.0.1:{phone.port}>")
        response.add("Content-Type", "application/sdp")
        response.body = SDP.format(port=phone.rtp_port, direction="sendrecv").encode()
    phone.send(response.to_bytes())


async def next_request(phone: Peer, method: str) -> sip.SipMessage:
    message = await phone.recv()
    while message.method is None or message.method != method:
        message = await phone.recv()  # a retransmission of something earlier
    return message


def settled(endpoint: SipEndpoint) -> bool:
    return not endpoint.calls and not endpoint._invites_sent


async def test_auto_answer_is_asked_in_each_form_phones_know(
    endpoint: SipEndpoint, phone: Peer
) -> None:
    plain = dial(endpoint, phone)
    invite = await next_request(phone, "INVITE")
    for header in ("call-info", "alert-info", "answer-mode"):
        assert invite.get(header) is None  # an ordinary ring asks nothing
    respond(phone, invite, 603)
    with pytest.raises(CallEnded, match="603"):
        await plain
    assert (await next_request(phone, "ACK")).cseq == (1, "ACK")

    auto = dial(endpoint, phone, auto_answer=True)
    invite = await next_request(phone, "INVITE")
    assert sip.param(invite.get("call-info") or "", "answer-after") == "0"
    assert sip.param(invite.get("alert-info") or "", "info") == "alert-autoanswer"
    assert invite.get("answer-mode") == "Auto"
    respond(phone, invite, 200, sdp=True)
    call = await auto
    assert call.answered
    ack = await next_request(phone, "ACK")
    assert ack.uri == f"sip:1001@127.0.0.1:{phone.port}"
    await call.hangup()
    bye = await next_request(phone, "BYE")
    respond(phone, bye, 200)
    await asyncio.sleep(0.05)
    assert settled(endpoint)


async def test_cancelling_the_task_cancels_the_ringing_invite(
    endpoint: SipEndpoint, phone: Peer
) -> None:
    ringing = dial(endpoint, phone)
    invite = await next_request(phone, "INVITE")
    respond(phone, invite, 180)
    await asyncio.sleep(0.1)
    ringing.cancel()
    cancel = await next_request(phone, "CANCEL")
    assert cancel.top_via_branch == invite.top_via_branch
    assert cancel.cseq == (invite.cseq[0], "CANCEL")
    respond(phone, cancel, 200)
    respond(phone, invite, 487)
    ack = await next_request(phone, "ACK")  # the 487 is acknowledged although nobody waits
    assert ack.top_via_branch == invite.top_via_branch
    assert ack.cseq == (invite.cseq[0], "ACK")
    assert sip.param(ack.get("to") or "", "tag") == "phone1"
    with pytest.raises(asyncio.CancelledError):
        await ringing
    assert await phone.nothing(0.8)  # no retransmitted CANCEL or INVITE
    assert settled(endpoint)


async def test_an_answer_that_crosses_the_cancel_is_acknowledged_and_hung_up(
    endpoint: SipEndpoint, phone: Peer
) -> None:
    ringing = dial(endpoint, phone)
    invite = await next_request(phone, "INVITE")
    respond(phone, invite, 180)
    await asyncio.sleep(0.1)
    ringing.cancel()
    cancel = await next_request(phone, "CANCEL")
    respond(phone, invite, 200, sdp=True)  # the phone had picked up: the CANCEL is too late
    respond(phone, cancel, 481)
    ack = await next_request(phone, "ACK")
    assert ack.uri == f"sip:1001@127.0.0.1:{phone.port}"  # in the dialog, at the Contact
    assert sip.param(ack.get("to") or "", "tag") == "phone1"
    bye = await next_request(phone, "BYE")
    assert bye.call_id == invite.call_id
    assert bye.cseq[0] > invite.cseq[0]
    respond(phone, bye, 200)
    with pytest.raises(asyncio.CancelledError):
        await ringing
    await asyncio.sleep(0.05)
    assert settled(endpoint)


async def test_a_phone_that_rings_too_long_is_cancelled_and_its_487_acknowledged(
    endpoint: SipEndpoint, phone: Peer
) -> None:
    ringing = dial(endpoint, phone, ring_timeout_s=0.5)
    invite = await next_request(phone, "INVITE")
    respond(phone, invite, 180)
    cancel = await next_request(phone, "CANCEL")
    respond(phone, cancel, 200)
    with pytest.raises(CallEnded, match="no answer"):
        await ringing
    respond(phone, invite, 487)
    ack = await next_request(phone, "ACK")
    assert ack.cseq == (invite.cseq[0], "ACK")
    await asyncio.sleep(0.05)
    assert settled(endpoint)
