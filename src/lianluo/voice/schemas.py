"""What the agent desk reads of its voice calls."""

from __future__ import annotations

from pydantic import BaseModel


class DeskCallOut(BaseModel):
    """A voice call of the caller's agent: ringing (offered, `answering` once the desk has
    answered it), connected or in wrap-up, with what the IVR learnt and the desk's controls
    (hold, consultation)."""

    contact_id: str
    customer_id: str
    state: str
    caller: str
    dialled: str
    ivr_path: list[str]
    callback: bool
    hold: bool
    consult_agent_id: str | None
    transfer_note: str
    answering: bool = False  # ringing, and the agent has answered from the desk
