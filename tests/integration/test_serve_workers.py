"""Issue 18: the per-IP sign-in limit must hold with the default `pbx serve` (two workers
asked for): without Redis one process serves with threads, and the start-up line says so."""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from admin_web.cli.serve import worker_plan
from tests.integration.test_demo_command import PBX, _read_until, free_port

LOGIN_PER_MINUTE = 30
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_without_redis_one_process_with_threads_and_with_redis_several() -> None:
    alone = worker_plan(2, "")
    assert (alone.workers, alone.threads) == (1, 8) and "PBX_REDIS_URL" in alone.message
    shared = worker_plan(3, "redis://127.0.0.1:6379/0")
    assert (shared.workers, shared.threads) == (3, 4) and "Redis" in shared.message


def test_70_rapid_sign_ins_through_the_served_site_get_no_more_than_the_limit(
    tmp_path: Path,
) -> None:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("PBX_")
    } | {
        "PBX_MODE": "production",
        "PBX_DATA_DIR": str(tmp_path),
        "PBX_SECRET_KEY": secrets.token_urlsafe(48),
        "PBX_PASSWORD_HASH_PROFILE": "test-only-fast",
    }
    subprocess.run([*PBX, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen(
        [*PBX, "serve", "--port", str(port)],  # the default: --workers 2
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        started = _read_until(proc, "Booting worker", timeout=60)
        assert "1 worker process" in started and "PBX_REDIS_URL" in started
        statuses = _hammer(f"http://127.0.0.1:{port}", 70)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        assert proc.stdout is not None
        proc.stdout.close()
    assert statuses.count(200) <= LOGIN_PER_MINUTE
    assert statuses.count(429) >= 70 - LOGIN_PER_MINUTE


def _hammer(base: str, times: int) -> list[int]:
    """Sign-in attempts like a browser (cookie and CSRF token), as fast as they go."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = _open(opener, f"{base}/login")[1]
    match = _CSRF.search(page)
    assert match, page[:500]
    form = {"email": "nobody@nowhere.se", "password": "x" * 15, "csrf_token": match.group(1)}
    data = urllib.parse.urlencode(form).encode()
    return [_open(opener, f"{base}/login", data)[0] for _ in range(times)]


def _open(opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None):
    for _ in range(100):  # the first request may come before the worker listens
        try:
            with opener.open(url, data=data, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except (ConnectionRefusedError, urllib.error.URLError):
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")
