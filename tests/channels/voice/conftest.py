"""Voice tests start SIPp phones in the background; none may outlive its test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.channels.voice.sipp_runner import cancel_leftovers


@pytest.fixture(autouse=True)
async def _no_leftover_sipp() -> AsyncIterator[None]:
    yield
    await cancel_leftovers()
