"""SIP messages (RFC 3261 section 7): a tolerant parser and a serializer.

The parser accepts what real phones send (compact header names, folded lines, LF-only line
ends, any case) and raises `SipParseError` for anything it cannot make sense of; the server
answers those with 400 when it can read enough to address a response, and drops them with a log
line otherwise.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

MAX_MESSAGE_BYTES = 65_535

COMPACT = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
}
CANONICAL = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "content-length": "Content-Length",
    "content-type": "Content-Type",
    "max-forwards": "Max-Forwards",
}
REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    503: "Service Unavailable",
}
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
_STATUS_LINE = re.compile(r"^SIP/2\.0 ([1-6]\d\d)(?: (.*))?$")
_REQUEST_LINE = re.compile(r"^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP/2\.0$")


class SipParseError(ValueError):
    """The bytes are not a SIP message we can read."""


def header_name(name: str) -> str:
    lower = name.strip().lower()
    lower = COMPACT.get(lower, lower)
    return CANONICAL.get(lower, "-".join(part.capitalize() for part in lower.split("-")))


@dataclass
class SipMessage:
    """A request (method + uri) or a response (status + reason), headers in order."""

    method: str | None = None
    uri: str | None = None
    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return self.method is not None

    def get(self, name: str, default: str | None = None) -> str | None:
        wanted = header_name(name)
        for key, value in self.headers:
            if key == wanted:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        wanted = header_name(name)
        return [value for key, value in self.headers if key == wanted]

    def set(self, name: str, value: str) -> None:
        wanted = header_name(name)
        self.headers = [(k, v) for k, v in self.headers if k != wanted]
        self.headers.append((wanted, value))

    def add(self, name: str, value: str) -> None:
        self.headers.append((header_name(name), value))

    @property
    def call_id(self) -> str:
        return self.get("call-id") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        raw = self.get("cseq") or ""
        number, _, method = raw.strip().partition(" ")
        try:
            return int(number), method.strip().upper()
        except ValueError as exc:
            raise SipParseError(f"bad CSeq {raw!r}") from exc

    @property
    def top_via_branch(self) -> str:
        via = self.get("via") or ""
        return param(via.split(",")[0], "branch") or ""

    def to_bytes(self) -> bytes:
        if self.is_request:
            start = f"{self.method} {self.uri} SIP/2.0"
        else:
            start = f"SIP/2.0 {self.status} {self.reason or REASONS.get(self.status or 0, '')}"
        lines = [start]
        lines.extend(f"{k}: {v}" for k, v in self.headers if k != "Content-Length")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


def parse(data: bytes) -> SipMessage:
    """Parse one datagram; raise `SipParseError` with the reason when it is not SIP."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise SipParseError("message too large")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("headers are not UTF-8") from exc
    raw_lines = text.replace("\r\n", "\n").split("\n")
    while raw_lines and not raw_lines[0].strip():
        raw_lines.pop(0)  # RFC 3261 7.5: ignore leading blank lines (keep-alives)
    if not raw_lines:
        raise SipParseError("empty message")
    start = raw_lines[0].strip()
    message = SipMessage()
    status = _STATUS_LINE.match(start)
    if status:
        message.status = int(status.group(1))
        message.reason = status.group(2) or ""
    else:
        request = _REQUEST_LINE.match(start)
        if not request:
            raise SipParseError(f"bad start line {start[:80]!r}")
        message.method = request.group(1).upper()
        message.uri = request.group(2)
    for line in raw_lines[1:]:
        if not line.strip():
            continue
        if line[0] in " \t":
            if not message.headers:
                raise SipParseError("continuation line before any header")
            key, value = message.headers[-1]
            message.headers[-1] = (key, value + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(name.strip()):
            raise SipParseError(f"bad header line {line[:80]!r}")
        message.headers.append((header_name(name), value.strip()))
    for required in ("via", "call-id", "cseq", "from", "to"):
        if message.get(required) is None:
            raise SipParseError(f"missing {header_name(required)} header")
    number, method = message.cseq
    if not 0 <= number < 2**31 or not method:
        raise SipParseError("bad CSeq")
    length_raw = message.get("content-length")
    if length_raw is not None:
        try:
            length = int(length_raw)
        except ValueError as exc:
            raise SipParseError(f"bad Content-Length {length_raw!r}") from exc
        if length < 0 or length > len(body):
            raise SipParseError("Content-Length beyond the datagram")
        body = body[:length]
    message.body = body
    return message


def param(value: str, name: str) -> str | None:
    """A `;name=value` parameter of a header value (outside <...>)."""
    tail = value.rsplit(">", 1)[-1] if ">" in value else value
    for part in tail.split(";")[1:]:
        key, _, val = part.partition("=")
        if key.strip().lower() == name:
            return val.strip().strip('"')
    return None


def uri_of(value: str) -> str:
    """The URI inside a From/To/Contact value: `"Bob" <sip:bob@x>;tag=1` → `sip:bob@x`."""
    if "<" in value and ">" in value:
        return value[value.index("<") + 1 : value.index(">")]
    return value.split(";")[0].strip()


def user_of(uri: str) -> str:
    """`sip:4008@host:5060;x=y` → `4008`."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    rest = rest.split(";")[0]
    return rest.split("@")[0] if "@" in rest else ""


def host_port_of(uri: str, default_port: int = 5060) -> tuple[str, int]:
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    rest = rest.split(";")[0].split("?")[0]
    hostport = rest.split("@")[-1]
    host, _, port = hostport.partition(":")
    return host, int(port) if port.isdigit() else default_port


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def response_to(
    request: SipMessage, status: int, reason: str = "", to_tag: str | None = None
) -> SipMessage:
    """A response that copies Via, From, To, Call-ID and CSeq (RFC 3261 8.2.6.2)."""
    response = SipMessage(status=status, reason=reason or REASONS.get(status, ""))
    for via in request.get_all("via"):
        response.add("Via", via)
    response.add("From", request.get("from") or "")
    to = request.get("to") or ""
    if to_tag and param(to, "tag") is None:
        to = f"{to};tag={to_tag}"
    response.add("To", to)
    response.add("Call-ID", request.call_id)
    response.add("CSeq", request.get("cseq") or "")
    if request.method == "INVITE" and 100 < status < 300:
        for route in request.get_all("record-route"):  # RFC 3261 12.1.1: proxies stay in
            response.add("Record-Route", route)
    return response
