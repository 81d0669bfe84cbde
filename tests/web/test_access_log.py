"""The access log never holds a usable link: tokens in paths are redacted (gunicorn's own
Logger, fed the request a worker would give it)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from flask import Flask
from gunicorn.config import Config

from admin_web.access_log import REDACTED, RedactingLogger, redact


def _fill(rule, token: str) -> str:
    values = {arg: (token if arg == "token" else "1") for arg in rule.arguments}
    return str(rule.build(values, append_unknown=False)[1])


def test_every_route_with_a_token_is_redacted(app: Flask) -> None:
    token = "Sekret-Token_123"
    token_rules = [r for r in app.url_map.iter_rules() if "token" in r.arguments]
    assert token_rules, "the site has token links (setup, review, softphone)"
    for rule in token_rules:
        path = _fill(rule, token)
        assert token not in redact(f"GET {path}?x=1 HTTP/1.1"), rule.rule
        assert REDACTED in redact(path)


def test_other_paths_are_left_alone() -> None:
    line = "GET /company/users/42/edit?page=2 HTTP/1.1"
    assert redact(line) == line


def test_gunicorn_access_line_has_no_token() -> None:
    logger = RedactingLogger(Config())
    path = "/account/password/AbCdEf0123456789"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "https://vaxel.example" + path,
    }
    resp = SimpleNamespace(status="302 FOUND", headers=[], sent=0)
    req = SimpleNamespace(headers=[("REFERER", "https://vaxel.example" + path)])
    atoms = logger.atoms(resp, req, environ, timedelta(milliseconds=3))
    line = logger.cfg.access_log_format % atoms
    assert "AbCdEf0123456789" not in line
    assert "/account/password/[redacted]" in line
