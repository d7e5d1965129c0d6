"""What every browser test needs: a real server in a thread on a fresh, seeded database, Debian's
Chromium with the project's flags, and a login through the real login page."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
EXPECT_TIMEOUT_MS = 20_000  # a shared, loaded machine: generous, and a failure still fails

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seeded_sqlite(directory: Path, seed: Callable[[Session], Any]) -> str:
    """A migrated SQLite database in `directory`, filled by `seed` and committed; its URL."""
    from lianluo.db import migrate
    from lianluo.db.engine import make_engine, make_sessionmaker

    url = f"sqlite:///{directory / 'lianluo.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            seed(session)
            session.commit()
    finally:
        engine.dispose()
    return url


def test_settings(url: str) -> Any:
    from lianluo.config import Settings

    return Settings(database_url=url, secret_key="browser-test-secret-" + "x" * 20)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@contextmanager
def serve(app: Any, ws: str = "none", start_timeout_s: float = 20.0) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port in a daemon thread; yields its base URL
    and stops it afterwards."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws=ws)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless, never a downloaded browser."""
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def login(page: Any, server: str, username: str, next_path: str) -> None:
    """Log in through /login (Chinese labels) and land on `next_path`."""
    from playwright.sync_api import expect

    page.goto(f"{server}/login?next={next_path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page).to_have_url(re.compile(re.escape(f"{server}{next_path}") + r"(\?.*)?$"))
