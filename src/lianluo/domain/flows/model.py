"""Declarative flows (IVR menus now, the chat bot later): definitions and their validation.

A flow is a dict (read from YAML by the caller; this module does no I/O) of named steps.
`compile_flow` checks it completely and raises `FlowError` listing every problem with its path,
so an operator sees all mistakes at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

STEP_KINDS = {
    "play": {"prompt", "next"},
    "menu": {"prompt", "options", "timeout_s", "retries", "invalid_prompt", "on_fail"},
    "collect": {
        "prompt",
        "into",
        "min_digits",
        "max_digits",
        "terminator",
        "timeout_s",
        "retries",
        "invalid_prompt",
        "next",
        "on_fail",
    },
    "lookup": {"next"},
    "branch": {"cases", "default"},
    "hours": {"schedule", "utc_offset_h", "open", "closed"},
    "set": {"attributes", "skills", "priority", "language", "next"},
    "enqueue": {"queue", "prompt"},
    "callback": {"queue", "prompt"},
    "voicemail": {"prompt", "max_s", "next"},
    "hangup": {"prompt"},
}
TARGET_KEYS = ("next", "on_fail", "open", "closed", "default")
OPERATORS = ("eq", "ne", "in", "gte", "lte", "truthy")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_DIGITS = re.compile(r"^[0-9*#]$")


class FlowError(ValueError):
    """A flow definition is invalid; `problems` lists each one as 'path: message'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid flow: " + "; ".join(problems))


@dataclass(frozen=True)
class Condition:
    var: str
    op: str
    value: Any = None
    goto: str = ""


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    spec: dict[str, Any]

    def target(self, key: str) -> str | None:
        value = self.spec.get(key)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Flow:
    name: str
    start: str
    language: str
    prompts: dict[str, dict[str, str]]
    steps: dict[str, Step]
    conditions: dict[str, tuple[Condition, ...]] = field(default_factory=dict)
    schedules: dict[str, dict[int, list[tuple[int, int]]]] = field(default_factory=dict)


def compile_flow(raw: Any) -> Flow:
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise FlowError(["flow: must be a mapping"])
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        problems.append("name: required, a non-empty string")
    language = raw.get("language", "zh")
    if language not in ("zh", "en"):
        problems.append("language: zh or en")
    prompts_raw = raw.get("prompts", {})
    prompts: dict[str, dict[str, str]] = {}
    if not isinstance(prompts_raw, dict):
        problems.append("prompts: must be a mapping of name -> {zh: text, en: text}")
        prompts_raw = {}
    for key, texts in prompts_raw.items():
        if isinstance(texts, str):
            texts = {str(language): texts}
        if (
            not isinstance(texts, dict)
            or not texts
            or not all(
                lang in ("zh", "en") and isinstance(text, str) and text.strip()
                for lang, text in texts.items()
            )
        ):
            problems.append(f"prompts.{key}: give the text per language, e.g. {{zh: ..., en: ...}}")
            continue
        prompts[str(key)] = {str(k): str(v) for k, v in texts.items()}
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, dict) or not steps_raw:
        problems.append("steps: required, a mapping of step id -> step")
        raise FlowError(problems)
    start = raw.get("start", next(iter(steps_raw)))
    if start not in steps_raw:
        problems.append(f"start: no step named {start!r}")
    steps: dict[str, Step] = {}
    conditions: dict[str, tuple[Condition, ...]] = {}
    schedules: dict[str, dict[int, list[tuple[int, int]]]] = {}
    for step_id, spec in steps_raw.items():
        path = f"steps.{step_id}"
        if not isinstance(spec, dict) or "type" not in spec:
            problems.append(f"{path}: a mapping with a type ({', '.join(STEP_KINDS)})")
            continue
        kind = spec["type"]
        if kind not in STEP_KINDS:
            problems.append(f"{path}.type: unknown {kind!r}; one of {', '.join(STEP_KINDS)}")
            continue
        body = {k: v for k, v in spec.items() if k != "type"}
        for key in body:
            if key not in STEP_KINDS[kind]:
                problems.append(f"{path}.{key}: not a field of a {kind} step")
        _check_step(path, kind, body, steps_raw, prompts, problems)
        if kind == "branch":
            conditions[str(step_id)] = _conditions(path, body, steps_raw, problems)
        if kind == "hours":
            schedules[str(step_id)] = _schedule(path, body, problems)
        steps[str(step_id)] = Step(str(step_id), kind, body)
    if problems:
        raise FlowError(problems)
    return Flow(str(name), str(start), str(language), prompts, steps, conditions, schedules)


def _check_step(
    path: str,
    kind: str,
    body: dict[str, Any],
    steps: dict[str, Any],
    prompts: dict[str, dict[str, str]],
    problems: list[str],
) -> None:
    def target(key: str, required: bool) -> None:
        value = body.get(key)
        if value is None:
            if required:
                problems.append(f"{path}.{key}: required, the id of the next step")
        elif not isinstance(value, str) or value not in steps:
            problems.append(f"{path}.{key}: no step named {value!r}")

    def prompt(key: str, required: bool) -> None:
        value = body.get(key)
        if value is None:
            if required:
                problems.append(f"{path}.{key}: required, a prompt name")
        elif value not in prompts:
            problems.append(f"{path}.{key}: no prompt named {value!r}")

    def number(key: str, low: float, high: float, integer: bool = False) -> None:
        value = body.get(key)
        if value is None:
            return
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and integer:
            ok = isinstance(value, int)
        if not ok or not low <= value <= high:
            kind_word = "an integer" if integer else "a number"
            problems.append(f"{path}.{key}: {kind_word} from {low:g} to {high:g}")

    if kind == "play":
        prompt("prompt", True)
        target("next", True)
    elif kind == "menu":
        prompt("prompt", True)
        prompt("invalid_prompt", False)
        target("on_fail", True)
        number("timeout_s", 0.5, 60)
        number("retries", 0, 10, integer=True)
        options = body.get("options")
        if not isinstance(options, dict) or not options:
            problems.append(f"{path}.options: required, a mapping of key -> step id")
        else:
            for key, goto in options.items():
                if not _DIGITS.match(str(key)):
                    problems.append(f"{path}.options.{key}: a key is one of 0-9, * or #")
                if not isinstance(goto, str) or goto not in steps:
                    problems.append(f"{path}.options.{key}: no step named {goto!r}")
    elif kind == "collect":
        prompt("prompt", True)
        prompt("invalid_prompt", False)
        target("next", True)
        target("on_fail", True)
        number("min_digits", 1, 32, integer=True)
        number("max_digits", 1, 32, integer=True)
        number("timeout_s", 0.5, 60)
        number("retries", 0, 10, integer=True)
        if not isinstance(body.get("into"), str) or not body["into"]:
            problems.append(f"{path}.into: required, the variable that receives the digits")
        if body.get("min_digits", 1) > body.get("max_digits", 16):
            problems.append(f"{path}: min_digits is above max_digits")
        terminator = body.get("terminator", "#")
        if terminator not in ("#", "*", ""):
            problems.append(f"{path}.terminator: # or * (or empty for none)")
    elif kind == "lookup":
        target("next", True)
    elif kind == "branch":
        target("default", True)
    elif kind == "hours":
        target("open", True)
        target("closed", True)
        number("utc_offset_h", -12, 14)
    elif kind == "set":
        target("next", True)
        for key in ("attributes", "skills"):
            if key in body and not isinstance(body[key], dict):
                problems.append(f"{path}.{key}: a mapping")
        if "skills" in body and isinstance(body["skills"], dict):
            for skill, level in body["skills"].items():
                if not isinstance(level, int) or not 1 <= level <= 10:
                    problems.append(f"{path}.skills.{skill}: a level from 1 to 10")
        number("priority", -100, 100, integer=True)
        if "language" in body and body["language"] not in ("zh", "en"):
            problems.append(f"{path}.language: zh or en")
    elif kind in ("enqueue", "callback"):
        if not isinstance(body.get("queue"), str) or not body["queue"]:
            problems.append(f"{path}.queue: required, the name of the queue")
        prompt("prompt", False)
    elif kind == "voicemail":
        prompt("prompt", True)
        number("max_s", 1, 600)
        target("next", False)
    elif kind == "hangup":
        prompt("prompt", False)


def _conditions(
    path: str, body: dict[str, Any], steps: dict[str, Any], problems: list[str]
) -> tuple[Condition, ...]:
    cases = body.get("cases")
    if not isinstance(cases, list) or not cases:
        problems.append(f"{path}.cases: required, a list of {{var, op, value, goto}}")
        return ()
    out = []
    for i, case in enumerate(cases):
        where = f"{path}.cases[{i}]"
        if not isinstance(case, dict):
            problems.append(f"{where}: a mapping {{var, op, value, goto}}")
            continue
        var, op, goto = case.get("var"), case.get("op", "truthy"), case.get("goto")
        if not isinstance(var, str) or not var:
            problems.append(f"{where}.var: required, e.g. customer.value_tier")
        if op not in OPERATORS:
            problems.append(f"{where}.op: one of {', '.join(OPERATORS)}")
        if op != "truthy" and "value" not in case:
            problems.append(f"{where}.value: required for op {op}")
        if op == "in" and not isinstance(case.get("value"), list):
            problems.append(f"{where}.value: a list for op in")
        if op in ("gte", "lte") and not isinstance(case.get("value"), int | float):
            problems.append(f"{where}.value: a number for op {op}")
        if not isinstance(goto, str) or goto not in steps:
            problems.append(f"{where}.goto: no step named {goto!r}")
        out.append(Condition(str(var), str(op), case.get("value"), str(goto)))
    return tuple(out)


def _schedule(
    path: str, body: dict[str, Any], problems: list[str]
) -> dict[int, list[tuple[int, int]]]:
    raw = body.get("schedule")
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{path}.schedule: required, e.g. {{mon-fri: '09:00-18:00'}}")
        return {}
    out: dict[int, list[tuple[int, int]]] = {}
    for days, spans in raw.items():
        where = f"{path}.schedule.{days}"
        first, _, last = str(days).partition("-")
        if first not in DAYS or (last and last not in DAYS):
            problems.append(f"{where}: days as mon, mon-fri, sat-sun")
            continue
        a = DAYS.index(first)
        b = DAYS.index(last) if last else a
        day_list = list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
        for span in [spans] if isinstance(spans, str) else spans if isinstance(spans, list) else []:
            m = _HOURS.match(str(span))
            if not m:
                problems.append(f"{where}: hours as 'HH:MM-HH:MM', got {span!r}")
                continue
            begin = int(m.group(1)) * 60 + int(m.group(2))
            end = int(m.group(3)) * 60 + int(m.group(4))
            if end <= begin or end > 24 * 60:
                problems.append(f"{where}: {span!r} ends before it begins")
                continue
            for day in day_list:
                out.setdefault(day, []).append((begin, end))
    return out
