"""The flow interpreter: a pure state machine that takes events and returns commands.

It knows nothing of SIP, chat or the database. A channel runs it like this::

    run = FlowRun(flow, caller="13800138000", now=now)
    commands = run.start()
    while not run.finished:
        ...carry out commands[-1] (play, collect digits, look the customer up)...
        commands = run.on(event)          # PlayDone, Digits, CustomerInfo, Recorded

Only the last command of a batch waits for an event; the ones before it (Play of a
farewell, SetAttributes …) are carried out in order without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from lianluo.domain.flows.model import Condition, Flow, Step

MAX_STEPS_PER_EVENT = 200


# ---- commands (what the channel must do) ---------------------------------------------------


@dataclass(frozen=True)
class Play:
    prompt: str
    text: str
    language: str


@dataclass(frozen=True)
class Collect:
    """Play `prompt` (interruptible) and collect up to `max_digits`; answer with Digits."""

    prompt: str
    text: str
    language: str
    max_digits: int
    timeout_s: float
    terminator: str = "#"


@dataclass(frozen=True)
class LookupCustomer:
    caller: str


@dataclass(frozen=True)
class Enqueue:
    queue: str
    attributes: dict[str, Any]
    skills: dict[str, int]
    priority: int
    language: str


@dataclass(frozen=True)
class RequestCallback:
    queue: str
    number: str
    attributes: dict[str, Any]
    skills: dict[str, int]
    priority: int
    language: str


@dataclass(frozen=True)
class Record:
    max_s: float


@dataclass(frozen=True)
class Hangup:
    reason: str


Command = Play | Collect | LookupCustomer | Enqueue | RequestCallback | Record | Hangup


# ---- events (what happened) ----------------------------------------------------------------


@dataclass(frozen=True)
class PlayDone:
    pass


@dataclass(frozen=True)
class Digits:
    """Collected digits; empty means the caller pressed nothing before the timeout."""

    value: str


@dataclass(frozen=True)
class CustomerInfo:
    found: bool
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    path: str
    seconds: float


Event = PlayDone | Digits | CustomerInfo | Recorded


class FlowStateError(RuntimeError):
    """An event arrived that the flow was not waiting for."""


@dataclass
class FlowRun:
    flow: Flow
    caller: str = ""
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    variables: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    skills: dict[str, int] = field(default_factory=dict)
    priority: int = 0
    language: str = ""
    finished: bool = False
    outcome: str = ""
    path: list[str] = field(default_factory=list)  # the steps visited, for the contact record
    _step: str = ""
    _waiting: type | None = None
    _tries: int = 0

    def __post_init__(self) -> None:
        self.language = self.language or self.flow.language
        self.variables.setdefault("caller", self.caller)

    def start(self) -> list[Command]:
        return self._run(self.flow.start)

    def on(self, event: Event, now: datetime | None = None) -> list[Command]:
        if self.finished:
            raise FlowStateError("the flow has finished")
        if self._waiting is None or not isinstance(event, self._waiting):
            raise FlowStateError(
                f"step {self._step!r} waits for "
                f"{self._waiting.__name__ if self._waiting else 'nothing'}, "
                f"not {type(event).__name__}"
            )
        if now is not None:
            self.now = now
        self._waiting = None
        step = self.flow.steps[self._step]
        if step.kind == "play":
            return self._run(step.spec["next"])
        if step.kind == "menu":
            assert isinstance(event, Digits)
            return self._on_menu(step, event.value)
        if step.kind == "collect":
            assert isinstance(event, Digits)
            return self._on_collect(step, event.value)
        if step.kind == "lookup":
            assert isinstance(event, CustomerInfo)
            self.variables["customer.found"] = event.found
            for key, value in event.attributes.items():
                self.variables[f"customer.{key}"] = value
            return self._run(step.spec["next"])
        if step.kind == "voicemail":
            assert isinstance(event, Recorded)
            self.variables["voicemail.path"] = event.path
            self.variables["voicemail.seconds"] = event.seconds
            if step.target("next"):
                return self._run(step.spec["next"])
            return self._finish([Hangup("voicemail")], "voicemail")
        raise FlowStateError(f"step {step.id!r} does not wait")  # pragma: no cover

    # ---- steps ------------------------------------------------------------------------

    def _prompt(self, name: str) -> tuple[str, str]:
        texts = self.flow.prompts[name]
        if self.language in texts:
            return texts[self.language], self.language
        lang, text = next(iter(texts.items()))
        return text, lang

    def _play(self, name: str) -> Play:
        text, lang = self._prompt(name)
        return Play(name, text, lang)

    def _collect(self, step: Step, prompt_key: str = "prompt") -> Collect:
        name = step.spec.get(prompt_key) or step.spec["prompt"]
        text, lang = self._prompt(name)
        return Collect(
            name,
            text,
            lang,
            max_digits=1 if step.kind == "menu" else int(step.spec.get("max_digits", 16)),
            timeout_s=float(step.spec.get("timeout_s", 5.0)),
            terminator=str(step.spec.get("terminator", "#")) if step.kind == "collect" else "",
        )

    def _wait(self, out: list[Command], event: type) -> list[Command]:
        self._waiting = event
        return out

    def _finish(self, out: list[Command], outcome: str) -> list[Command]:
        self.finished = True
        self.outcome = outcome
        return out

    def _run(self, step_id: str, out: list[Command] | None = None) -> list[Command]:
        out = out if out is not None else []
        for _ in range(MAX_STEPS_PER_EVENT):
            step = self.flow.steps[step_id]
            if step_id != self._step:
                self._tries = 0
            self._step = step_id
            self.path.append(step_id)
            spec = step.spec
            kind = step.kind
            if kind == "play":
                out.append(self._play(spec["prompt"]))
                return self._wait(out, PlayDone)
            if kind in ("menu", "collect"):
                out.append(self._collect(step))
                return self._wait(out, Digits)
            if kind == "lookup":
                out.append(LookupCustomer(self.caller))
                return self._wait(out, CustomerInfo)
            if kind == "voicemail":
                out.append(self._play(spec["prompt"]))
                out.append(Record(float(spec.get("max_s", 60))))
                return self._wait(out, Recorded)
            if kind == "branch":
                step_id = self._branch(self.flow.conditions[step.id], spec["default"])
                continue
            if kind == "hours":
                step_id = spec["open"] if self._is_open(step) else spec["closed"]
                continue
            if kind == "set":
                self.attributes.update(spec.get("attributes", {}))
                self.skills.update(spec.get("skills", {}))
                self.priority += int(spec.get("priority", 0))
                self.language = spec.get("language", self.language)
                step_id = spec["next"]
                continue
            if kind in ("enqueue", "callback"):
                if spec.get("prompt"):
                    out.append(self._play(spec["prompt"]))
                attributes = {**self.attributes, "language": self.language}
                if kind == "enqueue":
                    out.append(
                        Enqueue(
                            spec["queue"],
                            attributes,
                            dict(self.skills),
                            self.priority,
                            self.language,
                        )
                    )
                    return self._finish(out, "enqueued")
                out.append(
                    RequestCallback(
                        spec["queue"],
                        self.caller,
                        attributes,
                        dict(self.skills),
                        self.priority,
                        self.language,
                    )
                )
                out.append(Hangup("callback"))
                return self._finish(out, "callback")
            if kind == "hangup":
                if spec.get("prompt"):
                    out.append(self._play(spec["prompt"]))
                out.append(Hangup("flow"))
                return self._finish(out, "hangup")
            raise FlowStateError(f"unknown step kind {kind!r}")  # pragma: no cover
        raise FlowStateError(f"more than {MAX_STEPS_PER_EVENT} steps without input: a loop?")

    def _retry(self, step: Step) -> list[Command]:
        self._tries += 1
        if self._tries > int(step.spec.get("retries", 2)):
            return self._run(step.spec["on_fail"])
        out: list[Command] = []
        if step.spec.get("invalid_prompt"):
            out.append(self._play(step.spec["invalid_prompt"]))
        out.append(self._collect(step))
        self.path.append(step.id)
        return self._wait(out, Digits)

    def _on_menu(self, step: Step, digits: str) -> list[Command]:
        options = {str(k): v for k, v in step.spec["options"].items()}
        key = digits[:1]
        if key in options:
            self.variables[f"menu.{step.id}"] = key
            return self._run(options[key])
        return self._retry(step)

    def _on_collect(self, step: Step, digits: str) -> list[Command]:
        if len(digits) >= int(step.spec.get("min_digits", 1)):
            self.variables[step.spec["into"]] = digits
            return self._run(step.spec["next"])
        return self._retry(step)

    def _branch(self, conditions: tuple[Condition, ...], default: str) -> str:
        for cond in conditions:
            if _holds(cond, self.variables.get(cond.var)):
                return cond.goto
        return default

    def _is_open(self, step: Step) -> bool:
        offset = timedelta(hours=float(step.spec.get("utc_offset_h", 8)))
        local = self.now.astimezone(timezone(offset))
        minute = local.hour * 60 + local.minute
        spans = self.flow.schedules[step.id].get(local.weekday(), [])
        return any(begin <= minute < end for begin, end in spans)


def _holds(cond: Condition, value: Any) -> bool:
    if cond.op == "truthy":
        return bool(value)
    if cond.op == "eq":
        return bool(value == cond.value)
    if cond.op == "ne":
        return bool(value != cond.value)
    if cond.op == "in":
        return value in cond.value
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    if cond.op == "gte":
        return bool(value >= cond.value)
    return bool(value <= cond.value)
