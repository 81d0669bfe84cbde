"""SECURITY.md 11: per-IP rate limits on the login pages, in memory and in the real Redis
(shared by several workers: two app instances count together)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from tests.web.accounts import build_app
from tests.web.conftest import csrf_token

REDIS_URL = os.environ.get("PBX_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
LOGIN_PER_MINUTE = 30


def _hammer(app: Flask, times: int, ip: str = "198.51.100.7") -> list[int]:
    client = app.test_client()
    env = {"REMOTE_ADDR": ip}
    token = csrf_token(client, "/login")
    data = {"email": "nobody@nowhere.se", "password": "x" * 15, "csrf_token": token}
    return [client.post("/login", data=data, environ_base=env).status_code for _ in range(times)]


def test_login_is_rate_limited_per_ip_in_memory(app: Flask) -> None:
    statuses = _hammer(app, LOGIN_PER_MINUTE + 1)
    assert statuses[:LOGIN_PER_MINUTE] == [200] * LOGIN_PER_MINUTE
    assert statuses[-1] == 429
    assert _hammer(app, 1, ip="198.51.100.8") == [200]  # another address is not affected


def test_too_many_attempts_page_is_translated(app: Flask) -> None:
    _hammer(app, LOGIN_PER_MINUTE)
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"csrf_token": token}, environ_base={"REMOTE_ADDR": "198.51.100.7"}
    )
    assert response.status_code == 429 and "För många försök" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as exc:
        if IN_CI:
            pytest.fail(f"Redis must be reachable under CI: {exc}")
        pytest.skip(f"Redis not reachable (skipped outside CI only): {exc}")
    prefix = f"vaxel-test-{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


def test_two_workers_share_the_limit_through_redis(
    db_url: str, tmp_path: Path, redis_prefix: str
) -> None:
    options = {"redis_url": REDIS_URL, "extra": {"ratelimit_key_prefix": redis_prefix}}
    workers = [build_app(db_url, tmp_path / str(n), **options) for n in (1, 2)]
    try:
        first = _hammer(workers[0], LOGIN_PER_MINUTE // 2)
        second = _hammer(workers[1], LOGIN_PER_MINUTE - LOGIN_PER_MINUTE // 2 + 1)
        assert set(first) == {200}
        assert second[-1] == 429 and set(second[:-1]) == {200}
        keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{redis_prefix}*"))
        assert keys, "the counters live in Redis"
    finally:
        for worker in workers:
            worker.extensions["pbx"].close()
