from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: str
    occurred_at: datetime
    actor_id: str | None
    customer_id: str | None
    contact_id: str | None
    queue_id: str | None
    agent_id: str | None
    partner_id: str | None
    payload: dict[str, Any]
