"""Spoken prompts synthesised offline with espeak-ng, resampled by sox, cached on disk.

Debian's default `cmn` voice reads Chinese text as English spelling of pinyin; the
`cmn-latn-pinyin` voice speaks it. Files are keyed by a hash of voice and text, so editing a
prompt's text makes a new file and nothing stale is played.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
from pathlib import Path

from lianluo.channels.voice.media import Prompt

log = logging.getLogger(__name__)

VOICES = {"zh": "cmn-latn-pinyin", "en": "en-us"}


class PromptError(RuntimeError):
    """A prompt could not be synthesised (espeak-ng or sox missing or failing)."""


class PromptCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._memory: dict[str, Prompt] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def path_for(self, text: str, language: str) -> Path:
        voice = VOICES.get(language, VOICES["en"])
        digest = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:20]
        return self.directory / f"{language}-{digest}.wav"

    async def speak(self, text: str, language: str, name: str = "") -> Prompt:
        path = self.path_for(text, language)
        key = str(path)
        cached = self._memory.get(key)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._memory:
                if not path.exists():
                    await self._synthesise(text, language, path)
                self._memory[key] = Prompt.from_wav(path, name or path.stem)
        return self._memory[key]

    async def music(self) -> Prompt:
        """Music on hold: a soft, slowly repeating chord made by sox (no licence question)."""
        path = self.directory / "music-on-hold.wav"
        if str(path) in self._memory:
            return self._memory[str(path)]
        if not path.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.wav")
            await _run(
                "sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(tmp),
                "synth", "4", "sine", "261.6", "sine", "329.6", "sine", "392.0",
                "remix", "-", "fade", "0.5", "4", "0.5", "vol", "0.3",
            )  # fmt: skip
            tmp.replace(path)
        prompt = Prompt.from_wav(path, "music")
        self._memory[str(path)] = prompt
        return prompt

    async def _synthesise(self, text: str, language: str, path: Path) -> None:
        for tool in ("espeak-ng", "sox"):
            if shutil.which(tool) is None:
                raise PromptError(f"{tool} is not installed (apt-get install {tool})")
        self.directory.mkdir(parents=True, exist_ok=True)
        raw = path.with_suffix(".espeak.wav")
        tmp = path.with_suffix(".tmp.wav")
        voice = VOICES.get(language, VOICES["en"])
        await _run("espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), "--", text)
        await _run(
            "sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
            str(tmp), "highpass", "100", "lowpass", "3400", "norm", "-3",
        )  # fmt: skip
        raw.unlink(missing_ok=True)
        tmp.replace(path)  # atomic: a reader never sees half a file
        log.info("voice: synthesised a %s prompt (%s)", language, path.name)


async def _run(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise PromptError(f"{args[0]} failed: {err.decode('utf-8', 'replace')[:200]}")
