"""Web-chat rules without I/O: business hours and the estimated wait."""

from lianluo.domain.chat.hours import is_open
from lianluo.domain.chat.wait import estimated_wait_s

__all__ = ["estimated_wait_s", "is_open"]
