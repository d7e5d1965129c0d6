"""Channel-neutral flows: IVR menus for voice, the same interpreter for the chat bot."""

from lianluo.domain.flows.interpreter import (
    Collect,
    Command,
    CustomerInfo,
    Digits,
    Enqueue,
    Event,
    FlowRun,
    FlowStateError,
    Hangup,
    LookupCustomer,
    Play,
    PlayDone,
    Record,
    Recorded,
    RequestCallback,
)
from lianluo.domain.flows.model import Flow, FlowError, compile_flow

__all__ = [
    "Collect",
    "Command",
    "CustomerInfo",
    "Digits",
    "Enqueue",
    "Event",
    "Flow",
    "FlowError",
    "FlowRun",
    "FlowStateError",
    "Hangup",
    "LookupCustomer",
    "Play",
    "PlayDone",
    "Record",
    "Recorded",
    "RequestCallback",
    "compile_flow",
]
