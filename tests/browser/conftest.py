"""Real-browser fixtures (headless Chromium through playwright's sync API).

- `live_server`: the parametrized `app` (SQLite and PostgreSQL) served by werkzeug from a
  thread on 127.0.0.1 and a free port; yields the base URL ("http://127.0.0.1:PORT").
- `browser_page`: a fresh browser context and page (own cookies) per test.
- `screenshot(page, name)`: saves test-artifacts/<name>.png (the folder is git-ignored).

Chromium is Debian's /usr/bin/chromium; `playwright install` is never run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from admin_web import webrtc
from tests.web.conftest import app, auth, client, uow  # noqa: F401  (the same app fixtures)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # The softphone talks WebRTC to the switchboard on 127.0.0.1: Chromium leaves loopback
    # out of ICE unless allowed, and names its addresses by mDNS unless told not to.
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:  # noqa: F811
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        webrtc.close(app)  # hang up the softphone's WebRTC calls, stop their loop


def _closing(application: Flask) -> Any:
    """The app with every response body read and closed at once. Werkzeug's development
    server skips `close()` when the browser drops a connection early (navigating away while
    a static file loads), which leaves the file open: a ResourceWarning, an error under
    `filterwarnings = error`. Buffering costs nothing at test sizes."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = application(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


# Package scope, not session: playwright's sync API runs its event loop in this thread, and
# while it lives `asyncio.run` fails everywhere else ("cannot be called from a running event
# loop") — the SIP tests after the browser tests use asyncio. One Chromium for this package,
# stopped when its last test is done.
@pytest.fixture(scope="package")
def _chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is required for the browser tests")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_chromium: Any) -> Iterator[Any]:
    context = _chromium.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
