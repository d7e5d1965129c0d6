"""The media side of a call, behind one interface.

`Media` is what flows and the queue see of a call: answer, play, collect digits, record,
bridge, hang up. `server.Call` implements it with Lianluo's own RTP stack; an adapter to an
external media server (FreeSWITCH ESL, Asterisk ARI, rtpengine) would implement the same
methods and leave the SIP and RTP to that server.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from lianluo.channels.voice import rtp

SAMPLE_RATE = 8000


@dataclass
class Prompt:
    """Audio to play: 8 kHz 16-bit mono PCM, cut into 20 ms frames once per codec."""

    name: str
    pcm: np.ndarray
    _frames: dict[int, list[bytes]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wav(cls, path: Path, name: str | None = None) -> Prompt:
        with wave.open(str(path), "rb") as w:
            if w.getframerate() != SAMPLE_RATE or w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise ValueError(f"{path}: need 8 kHz 16-bit mono, convert it with sox")
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
        return cls(name or path.stem, pcm)

    @classmethod
    def tone(cls, name: str, hz: float, seconds: float, level: float = 0.3) -> Prompt:
        t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
        return cls(name, (np.sin(2 * np.pi * hz * t) * level * 32767).astype(np.int16))

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / SAMPLE_RATE

    def frames(self, payload_type: int) -> list[bytes]:
        cached = self._frames.get(payload_type)
        if cached is None:
            n = rtp.SAMPLES_PER_FRAME
            padded = np.zeros(-(-len(self.pcm) // n) * n, dtype=np.int16)
            padded[: len(self.pcm)] = self.pcm
            encoded = rtp.encode(padded, payload_type)
            cached = [encoded[i : i + n] for i in range(0, len(encoded), n)]
            self._frames[payload_type] = cached
        return cached


class Recorder:
    """Both directions of a leg, written as a stereo WAV: left what the caller said, right
    what the caller heard. Frames are placed by clock tick so the two sides stay aligned.

    The media loop hands over the G.711 payloads as they are (the sent ones are the prompt's
    own frames, not copies); they are decoded once, at `close`, so that recording costs the
    20 ms tick a list append rather than a decode per packet.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.heard: list[tuple[bytes, int]] = []  # (payload, payload type) per tick
        self.said: dict[int, tuple[bytes, int]] = {}  # slot -> (payload, payload type)
        self.first_tick: int | None = None

    def on_sent(self, tick: int, payload: bytes, payload_type: int) -> None:
        if self.first_tick is None:
            self.first_tick = tick
        self.heard.append((payload, payload_type))

    def on_received(self, tick: int, payload: bytes, payload_type: int) -> None:
        if self.first_tick is None:
            self.first_tick = tick
        slot = tick - self.first_tick
        while slot in self.said:  # two packets in one tick (jitter): next slot
            slot += 1
        self.said[slot] = (payload, payload_type)

    def close(self) -> Path:
        n = rtp.SAMPLES_PER_FRAME
        frames = max(len(self.heard), (max(self.said) + 1) if self.said else 0)
        left = np.zeros(frames * n, dtype=np.int16)
        right = np.zeros(frames * n, dtype=np.int16)
        for slot, (payload, payload_type) in self.said.items():
            pcm = rtp.decode(payload[:n], payload_type)
            left[slot * n : slot * n + len(pcm)] = pcm
        for slot, (payload, payload_type) in enumerate(self.heard):
            pcm = rtp.decode(payload[:n], payload_type)
            right[slot * n : slot * n + len(pcm)] = pcm
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(self.path), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(np.column_stack([left, right]).astype("<i2").tobytes())
        return self.path


class CallEnded(Exception):
    """The other side hung up (or the call failed) while we waited on it."""


class Media(Protocol):
    """What a flow or a queue may do with a call's media."""

    @property
    def caller(self) -> str: ...

    @property
    def dialled(self) -> str: ...

    async def answer(self) -> None: ...

    async def play(self, prompt: Prompt, *, interruptible: bool = False) -> str | None:
        """Play to the end; with `interruptible`, stop at the first digit and return it."""
        ...

    async def loop(self, prompt: Prompt) -> None:
        """Play over and over (music on hold) until something else is played or bridged."""
        ...

    async def collect(
        self, max_digits: int, timeout_s: float, terminator: str = "#", first: str = ""
    ) -> str: ...

    def record(self, path: Path) -> None: ...

    async def bridge(self, other: Media) -> None:
        """Connect the audio of two calls until either hangs up."""
        ...

    async def hangup(self) -> None: ...
