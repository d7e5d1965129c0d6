"""SDP offer/answer (RFC 3264) for one audio stream: PCMU, PCMA and telephone-event."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

PCMU, PCMA = 0, 8
STATIC = {0: "PCMU", 8: "PCMA"}


class SdpError(ValueError):
    """The offer cannot be answered (no audio, no codec we speak)."""


@dataclass
class MediaOffer:
    address: str
    port: int
    payload_types: list[int]
    rtpmap: dict[int, str] = field(default_factory=dict)
    direction: str = "sendrecv"

    def codec(self) -> int:
        """The first offered codec we speak (the offerer's preference order)."""
        for pt in self.payload_types:
            name = self.rtpmap.get(pt, STATIC.get(pt, "")).split("/")[0].upper()
            if name in ("PCMU", "PCMA") and pt in (PCMU, PCMA):
                return pt
        raise SdpError("no common codec: offer PCMU or PCMA")

    def telephone_event(self) -> int | None:
        for pt in self.payload_types:
            if self.rtpmap.get(pt, "").lower().startswith("telephone-event/8000"):
                return pt
        return None


def parse_offer(body: bytes) -> MediaOffer:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SdpError("SDP is not UTF-8") from exc
    session_address = ""
    media: MediaOffer | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "c":
            parts = value.split()
            if len(parts) == 3:
                if media is None:
                    session_address = parts[2].split("/")[0]
                else:
                    media.address = parts[2].split("/")[0]
        elif kind == "m":
            if media is not None:
                break  # first audio stream only
            parts = value.split()
            if len(parts) < 4 or parts[0] != "audio":
                continue
            try:
                port = int(parts[1].split("/")[0])
                pts = [int(p) for p in parts[3:]]
            except ValueError as exc:
                raise SdpError("bad m= line") from exc
            if not 0 <= port < 65536 or any(not 0 <= p < 128 for p in pts):
                raise SdpError("bad m= line")
            media = MediaOffer(session_address, port, pts)
        elif kind == "a" and media is not None:
            if value.startswith("rtpmap:"):
                pt_raw, _, encoding = value[7:].partition(" ")
                if pt_raw.isdigit():
                    media.rtpmap[int(pt_raw)] = encoding.strip()
            elif value in ("sendrecv", "sendonly", "recvonly", "inactive"):
                media.direction = value
    if media is None:
        raise SdpError("no audio stream in the offer")
    if not media.address:
        raise SdpError("no connection address")
    return media


def build_sdp(
    address: str,
    port: int,
    codec: int,
    telephone_event: int | None = 101,
    direction: str = "sendrecv",
    session_id: int | None = None,
) -> bytes:
    sid = session_id if session_id is not None else secrets.randbelow(2**31)
    pts = [codec] + ([telephone_event] if telephone_event is not None else [])
    lines = [
        "v=0",
        f"o=lianluo {sid} {sid} IN IP4 {address}",
        "s=lianluo",
        f"c=IN IP4 {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(str(p) for p in pts)}",
        f"a=rtpmap:{codec} {STATIC[codec]}/8000",
    ]
    if telephone_event is not None:
        lines.append(f"a=rtpmap:{telephone_event} telephone-event/8000")
        lines.append(f"a=fmtp:{telephone_event} 0-15")
    lines += ["a=ptime:20", f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def answer_direction(offered: str) -> str:
    return {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}.get(
        offered, "sendrecv"
    )
