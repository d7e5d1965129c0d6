"""The chat protocol: REST bodies and the JSON frames of /ws/chat and /ws/desk.

Frames from clients (customer: /ws/chat, agent: /ws/desk, which names the conversation):

    {"type": "message", "client_msg_id": "c-1", "body": "你好"}  -> ack, then message to all
    {"type": "typing", "on": true}                                -> typing to the other side
    {"type": "read", "seq": 7}                                    -> read to the other side
    {"type": "callback", "phone": "138…", "at": "2026-…+08:00"}  (customer) -> callback_ok
    {"type": "rate", "score": 5, "comment": ""}                   (customer) -> rated
    {"type": "end"}                                               (customer) -> status ended
    {"type": "join", "conversation_id": "…", "last_seq": 0}       (agent) -> replay
    {"type": "ping"}                                              -> pong
    {"type": "call", "action": "hold", "contact_id": "…"}         (agent, voice) -> call_ok
        actions: hold, resume, consult (to_agent_id), cancel_consult, transfer (to_agent_id or
        to_queue_id; after a consultation, to the consulted agent), hangup (then wrap-up)

Server frames: hello, message {seq, id, client_msg_id, sender, body, at}, ack {client_msg_id,
seq, id}, typing, read, status {state, position, ewt_s}, queue {position, ewt_s}, desk (agent:
something about its work changed, refetch), error {code, message}.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, TypeAdapter, model_validator

ClientMsgId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Body = Annotated[str, Field(min_length=1, max_length=4000)]
MAX_FRAME_BYTES = 16_384


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageFrame(_Frame):
    type: Literal["message"]
    client_msg_id: ClientMsgId
    body: Body
    conversation_id: str | None = Field(None, max_length=32)  # agents name the conversation


class TypingFrame(_Frame):
    type: Literal["typing"]
    on: bool = True
    conversation_id: str | None = Field(None, max_length=32)


class ReadFrame(_Frame):
    type: Literal["read"]
    seq: int = Field(ge=0, le=2**31)
    conversation_id: str | None = Field(None, max_length=32)


class CallbackFrame(_Frame):
    type: Literal["callback"]
    phone: str = Field(min_length=5, max_length=32)
    at: datetime | None = None


class RateFrame(_Frame):
    type: Literal["rate"]
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=2000)


class EndFrame(_Frame):
    type: Literal["end"]
    conversation_id: str | None = Field(None, max_length=32)  # agents: complete the chat


class JoinFrame(_Frame):
    type: Literal["join"]
    conversation_id: str = Field(max_length=32)
    last_seq: int = Field(0, ge=0, le=2**31)


class PingFrame(_Frame):
    type: Literal["ping"]


class CallFrame(_Frame):
    """The agent desk's control of its voice call (the SIP worker carries it out)."""

    type: Literal["call"]
    contact_id: str = Field(min_length=1, max_length=32)
    action: Literal["answer", "hold", "resume", "consult", "cancel_consult", "transfer", "hangup"]
    to_agent_id: str | None = Field(None, max_length=32)
    to_queue_id: str | None = Field(None, max_length=32)
    note: str = Field("", max_length=2000)


ClientFrame = Annotated[
    MessageFrame
    | TypingFrame
    | ReadFrame
    | CallbackFrame
    | RateFrame
    | EndFrame
    | JoinFrame
    | PingFrame
    | CallFrame,
    Field(discriminator="type"),
]
client_frame = TypeAdapter(ClientFrame)


# ---- REST ------------------------------------------------------------------------------------


class ChatSessionIn(BaseModel):
    """The widget's pre-chat form: who is writing, to which tenant and queue."""

    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(min_length=1, max_length=64, description="the tenant's slug")
    queue_id: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, min_length=5, max_length=32)
    email: EmailStr | None = None
    language: Literal["zh", "en"] = "zh"
    subject: str = Field("", max_length=300)

    @model_validator(mode="after")
    def _reachable(self) -> ChatSessionIn:
        if not self.phone and not self.email:
            raise ValueError("give a phone number or an e-mail address")
        if not self.name.strip():
            raise ValueError("name: must not be blank")
        return self


class QueueInfo(BaseModel):
    open: bool = Field(description="inside the queue's business hours")
    agents_online: int = Field(description="agents serving the queue who are logged in")
    position: int | None = Field(None, description="1 = next in line; None when not waiting")
    ewt_s: float | None = Field(
        None, description="estimated wait: position x AHT / (agents x chats per agent)"
    )


class ChatSessionOut(BaseModel):
    token: str = Field(description="keep it (localStorage); it opens /ws/chat?token=…")
    conversation_id: str
    status: str
    queue: QueueInfo


class WidgetConfigOut(BaseModel):
    tenant: str
    queue_id: str
    queue_name: str
    language: str
    strings: dict[str, str]
    availability: QueueInfo


class ChatMessageOut(BaseModel):
    id: str
    seq: int | None
    client_msg_id: str | None
    sender: str
    body: str
    at: datetime


class DeskChatOut(BaseModel):
    """One chat of the agent's desk: offered (with its deadline), connected or in wrap-up."""

    contact_id: str
    conversation_id: str
    customer_id: str
    customer_name: str
    value_tier: str
    queue_id: str | None
    state: str
    offered_s: float | None
    expires_s: float | None
    chat_status: str | None
    last_seq: int
    agent_read_seq: int
    transfer_note: str
    transfers: list[dict[str, object]]


class NamedRef(BaseModel):
    id: str
    name: str
    state: str = ""


class DeskSetupOut(BaseModel):
    """What the desk's forms offer: dispositions, break reasons, transfer targets."""

    agent_id: str | None
    capacity: dict[str, int]
    dispositions: list[str]
    break_reasons: list[str]
    queues: list[NamedRef]
    agents: list[NamedRef]


class CannedReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=4000)
    language: Literal["zh", "en"] = "zh"


class CannedReplyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    body: str
    language: str
