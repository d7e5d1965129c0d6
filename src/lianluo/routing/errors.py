"""The routing engine's exceptions as API errors, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lianluo.domain import routing as rt
from lianluo.errors import Conflict, NotFound, Unprocessable


@contextmanager
def engine_errors() -> Iterator[None]:
    """ConfigError -> 422, NotFoundError -> 404, ConflictError -> 409."""
    try:
        yield
    except rt.ConfigError as exc:
        raise Unprocessable(str(exc)) from None
    except rt.NotFoundError as exc:
        raise NotFound(str(exc)) from None
    except rt.ConflictError as exc:
        raise Conflict(str(exc)) from None
