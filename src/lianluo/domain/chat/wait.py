"""The estimated wait (EWT) a customer in line is shown."""

from __future__ import annotations

import math


def estimated_wait_s(position: int, aht_s: float, agents: int, chats_per_agent: int = 1) -> float:
    """Expected wait of the customer at `position` (1 = next) in a FIFO line served by `agents`
    agents each handling up to `chats_per_agent` chats at once, every chat taking `aht_s`.

    All `agents * chats_per_agent` slots work in parallel, so a slot frees every
    aht_s / slots seconds on average; the customer waits for `position` of them:
    EWT = position * AHT / slots. This is the queue-position estimator of Whitt,
    "Predicting queueing delays", Management Science 45(6), 1999 (the "QL" predictor,
    mean of an Erlang(position, slots/AHT) delay), without abandonment. With no agent
    logged in there is no estimate: infinity.
    """
    if position <= 0:
        return 0.0
    slots = max(0, agents) * max(1, chats_per_agent)
    if slots == 0 or aht_s <= 0:
        return math.inf
    return position * aht_s / slots
