"""RTP (RFC 3550) packets, G.711 (ITU-T G.711) µ-law/A-law, RFC 4733 DTMF events."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

SAMPLES_PER_FRAME = 160  # 20 ms at 8 kHz
DTMF_EVENTS = "0123456789*#ABCD"


class RtpError(ValueError):
    """Not an RTP packet we accept."""


@dataclass
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def to_bytes(self) -> bytes:
        return (
            struct.pack(
                "!BBHII",
                0x80,
                (0x80 if self.marker else 0) | (self.payload_type & 0x7F),
                self.sequence & 0xFFFF,
                self.timestamp & 0xFFFFFFFF,
                self.ssrc & 0xFFFFFFFF,
            )
            + self.payload
        )


def parse_rtp(data: bytes) -> RtpPacket:
    if len(data) < 12:
        raise RtpError("shorter than an RTP header")
    b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", data)
    if b0 >> 6 != 2:
        raise RtpError("not RTP version 2")
    offset = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:  # header extension
        if len(data) < offset + 4:
            raise RtpError("truncated extension")
        (words,) = struct.unpack_from("!H", data, offset + 2)
        offset += 4 + 4 * words
    end = len(data)
    if b0 & 0x20:  # padding
        if end <= offset:
            raise RtpError("bad padding")
        end -= data[-1]
    if end < offset:
        raise RtpError("truncated packet")
    return RtpPacket(b1 & 0x7F, seq, ts, ssrc, bytes(data[offset:end]), bool(b1 & 0x80))


# ---- G.711 ---------------------------------------------------------------------------------


def _ulaw_decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_decode_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    sign = a & 0x80
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1)
    )
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


ULAW_TO_PCM = _ulaw_decode_table()
ALAW_TO_PCM = _alaw_decode_table()


def _encode_table(decode: np.ndarray) -> np.ndarray:
    """Encoding by nearest decoded value over all 16-bit inputs (exact inverse of the table)."""
    order = np.argsort(decode.astype(np.int32), kind="stable")
    levels = decode.astype(np.int32)[order]
    pcm = np.arange(-32768, 32768, dtype=np.int32)
    idx = np.clip(np.searchsorted(levels, pcm), 1, len(levels) - 1)
    lower, upper = levels[idx - 1], levels[idx]
    pick = np.where(pcm - lower <= upper - pcm, idx - 1, idx)
    return order[pick].astype(np.uint8)


PCM_TO_ULAW = _encode_table(ULAW_TO_PCM)
PCM_TO_ALAW = _encode_table(ALAW_TO_PCM)


def decode(payload: bytes, payload_type: int) -> np.ndarray:
    table = ULAW_TO_PCM if payload_type == 0 else ALAW_TO_PCM
    return table[np.frombuffer(payload, dtype=np.uint8)]


def encode(pcm: np.ndarray, payload_type: int) -> bytes:
    table = PCM_TO_ULAW if payload_type == 0 else PCM_TO_ALAW
    return table[pcm.astype(np.int32) + 32768].tobytes()


def transcode(payload: bytes, src_pt: int, dst_pt: int) -> bytes:
    if src_pt == dst_pt:
        return payload
    return encode(decode(payload, src_pt), dst_pt)


SILENCE = {0: b"\xff" * SAMPLES_PER_FRAME, 8: b"\xd5" * SAMPLES_PER_FRAME}


# ---- RFC 4733 telephone events -----------------------------------------------------------


def dtmf_payload(event: int, end: bool, volume: int, duration: int) -> bytes:
    return struct.pack("!BBH", event, (0x80 if end else 0) | (volume & 0x3F), duration & 0xFFFF)


class DtmfReceiver:
    """Turns RFC 4733 packets into digits, once each.

    All packets of one event share the RTP timestamp of its start and the end packet is sent
    three times (RFC 4733 2.5.1.3), so a digit is reported at the first packet of a new
    (timestamp, event) and its redundant packets are ignored. A repeated digit ("11") from a
    real phone has a new timestamp; a replayed recording may reuse the timestamp, so a start
    packet after the event ended (and after a gap longer than reordering explains) is a new
    press too.
    """

    REORDER_WINDOW_S = 0.03

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._ended_at: float | None = None

    def feed(self, packet: RtpPacket, now: float) -> str | None:
        if len(packet.payload) < 4:
            return None
        event, flags = packet.payload[0], packet.payload[1]
        if event >= len(DTMF_EVENTS):
            return None
        end = bool(flags & 0x80)
        key = (packet.timestamp, event)
        if key != self._key:
            self._key = key
            self._ended_at = now if end else None
            return DTMF_EVENTS[event]
        if end:
            if self._ended_at is None:
                self._ended_at = now
            return None
        if self._ended_at is not None and now - self._ended_at > self.REORDER_WINDOW_S:
            self._ended_at = None
            return DTMF_EVENTS[event]
        return None
