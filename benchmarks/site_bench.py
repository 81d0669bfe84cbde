"""Site benchmark: the users page and the call-log page under load, against a bare Flask page.

Sets up a fresh data directory: migrations, the demo companies, call-log rows up to
`--rows` (default 1,000,000) spread over the demo companies; serves the site with
`pbx serve --workers 2` and a bare Flask app (one view rendering a 50-item template) with the
same gunicorn settings; signs in as a demo company admin through the real login pages; then
runs `wrk` against 127.0.0.1 for each page in turn, in the same run.

    .venv/bin/python benchmarks/site_bench.py [--rows N] [--duration S] [--connections C]
                                              [--database-url URL] [--rounds R]

Needs `wrk` (Debian package; as root: `apt-get install -y wrk`). Targets (issue 5): each site
page serves at least 50 % of the bare page's requests per second, and p99 < 100 ms at 16
connections.

Printed per page: the best round's requests per second and p99; "vs bare", the median over
rounds of its requests per second divided by the bare page's in the same round (neighbours on
a shared machine disturb whole rounds, less so the ratio); the servers' own CPU per request
(master and workers, from /proc) and the bare page's CPU per request divided by it, which
does not depend on what else the machine runs; and responses that were not 2xx/3xx.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BARE_TEMPLATE = """<!doctype html><html lang="sv"><head><meta charset="utf-8">
<title>Bare</title><link rel="stylesheet" href="/static/site.css"></head><body><main>
<h1>{{ title }}</h1><table><thead><tr><th>#</th><th>Name</th><th>E-mail</th><th>Ext</th></tr>
</thead><tbody>{% for item in items %}<tr><td>{{ item.n }}</td><td>{{ item.name }}</td>
<td>{{ item.email }}</td><td>{{ item.ext }}</td></tr>{% endfor %}</tbody></table></main></body>
</html>"""


def bare_app() -> Any:
    """The comparison: Flask rendering a 50-item template, nothing else (gunicorn target)."""
    from flask import Flask, render_template_string

    app = Flask("bare")
    items = [
        {"n": n, "name": f"Person {n}", "email": f"person{n}@example.se", "ext": 100 + n}
        for n in range(50)
    ]

    @app.get("/")
    def page() -> str:
        return render_template_string(BARE_TEMPLATE, title="Bare page", items=items)

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(data_dir: Path, database_url: str, port: int) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "bench-secret-key"  # kept with reused data: it seals TOTP secrets
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
    return {
        **os.environ,
        "PBX_MODE": "demo",
        "PBX_DATA_DIR": str(data_dir),
        "PBX_DATABASE_URL": database_url or f"sqlite:///{data_dir / 'pbx.sqlite3'}",
        "PBX_SECRET_KEY": key_file.read_text(),
        "PBX_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }


def prepare(env: dict[str, str], rows: int) -> tuple[str, str, str]:
    """Migrate, load the demo (both idempotent), fill the call log up to `rows`; returns the
    admin's (email, password, TOTP secret), issued afresh."""
    from admin_web.runtime import Runtime
    from fixtures.demo import load_demo
    from fixtures.demo_logins import issue_demo_logins
    from pbx.config import load_settings

    settings = load_settings(env)
    rt = Runtime.build(settings)
    try:
        rt.migrate()
        print(load_demo(rt, calls_per_day=40).summary(), flush=True)
        fill_call_log(rt, rows)
        with rt.unit_of_work() as session:
            logins = issue_demo_logins(session, settings)
    finally:
        rt.close()
    admin = next(x for x in logins if x.role == "company_admin")
    return admin.email, admin.password, admin.totp_secret or ""


def fill_call_log(rt: Any, total: int, batch: int = 20_000) -> None:
    """Synthetic inbound calls over the last year, spread evenly over the demo companies."""
    import random

    from sqlalchemy import func, select

    from storage.models import CallLogEntry, PhoneNumber, User

    with rt.unit_of_work() as s:
        have = s.scalar(select(func.count()).select_from(CallLogEntry)) or 0
        numbers = s.execute(select(PhoneNumber.tenant_id, PhoneNumber.e164)).all()
        staff = s.execute(select(User.tenant_id, User.id).where(User.tenant_id.is_not(None))).all()
    rng, now, started = random.Random(5), datetime.now(UTC), time.perf_counter()
    people: dict[int, list[int]] = {}
    for tenant_id, user_id in staff:
        people.setdefault(tenant_id, []).append(user_id)
    for done in range(have, total, batch):
        chunk = [_row(rng, now, numbers, people, n) for n in range(done, min(total, done + batch))]
        with rt.engine.begin() as conn:  # plain Core executemany: setup, not what is measured
            conn.execute(CallLogEntry.__table__.insert(), chunk)
    print(f"call log: {total:,} rows ({time.perf_counter() - started:.0f} s to add)", flush=True)


def _row(rng: Any, now: datetime, numbers: list[Any], people: dict[int, list[int]], n: int) -> Any:
    tenant_id, number = numbers[n % len(numbers)]
    start = now - timedelta(seconds=rng.randrange(365 * 86400))
    answered = rng.random() < 0.75
    return {
        "call_id": f"bench-{n}",
        "leg": 0,
        "tenant_id": tenant_id,
        "user_id": rng.choice(people[tenant_id]),
        "caller": f"+4670{rng.randrange(10**7):07d}",
        "callee": number,
        "direction": "inbound",
        "started_at": start,
        "answered_at": start + timedelta(seconds=5) if answered else None,
        "ended_at": start + timedelta(seconds=rng.randrange(10, 600)),
        "disposition": "answered" if answered else "no_answer",
    }


def start_servers(env: dict[str, str], site_port: int, bare_port: int) -> list[subprocess.Popen]:
    site = [str(ROOT / ".venv/bin/pbx"), "serve", "--workers", "2", "--port", str(site_port)]
    bare = [
        sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{bare_port}",
        "--access-logfile", "-", "--chdir", str(ROOT / "benchmarks"), "site_bench:bare_app()",
    ]  # fmt: skip
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT}
    servers = [subprocess.Popen(site, env=env, **quiet), subprocess.Popen(bare, env=env, **quiet)]
    for port in (site_port, bare_port):
        _wait_for(port)
    return servers


def _wait_for(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {seconds:.0f} s")


def sign_in(base: str, email: str, password: str, secret: str) -> str:
    """Through /login and /login/code like a browser; returns the Cookie header value."""
    from pbx.security.totp import Totp

    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    _form(opener, f"{base}/login", {"email": email, "password": password})
    _form(opener, f"{base}/login/code", {"code": Totp.code_at(secret, time.time())})
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    check = urllib.request.Request(f"{base}/users/", headers={"Cookie": cookie})
    with urllib.request.urlopen(check) as response:
        assert response.url.endswith("/users/"), f"not signed in: {response.url}"
    return cookie


def _form(opener: Any, url: str, fields: dict[str, str]) -> None:
    page = opener.open(url).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, f"no form on {url}"
    data = urllib.parse.urlencode({**fields, "csrf_token": token.group(1)}).encode()
    opener.open(url, data=data).read()


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by a gunicorn master and its workers (from /proc): the
    server's own cost per request, whatever else the machine is doing."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that just ended
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wrk(url: str, cookie: str, seconds: int, connections: int) -> dict[str, float]:
    threads = str(min(2, connections))
    command = [
        "wrk", "--threads", threads, "--connections", str(connections),
        "--duration", f"{seconds}s", "--latency", "--header", f"Cookie: {cookie}", url,
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    assert p99, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = int(failed.group(1)) if failed else 0
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale, "requests": done, "errors": errors}


def measure(pages: dict[str, tuple[str, int]], cookie: str, args: Any) -> dict[str, Any]:
    """Rounds of bare → users → calls; per page the best round, the median of its per-round
    ratio to the bare page (neighbours on a shared machine disturb rounds, not ratios), and
    the servers' CPU per request."""
    for url, _ in pages.values():
        wrk(url, cookie, 3, args.connections)  # warm-up: imports, caches, page cache
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in pages}
    for _ in range(args.rounds):
        for name, (url, pid) in pages.items():
            before = server_cpu(pid)
            run = wrk(url, cookie, args.duration, args.connections)
            run["cpu_ms"] = (server_cpu(pid) - before) * 1000 / max(1, run["requests"])
            runs[name].append(run)
    return {name: _summary(runs, name) for name in pages}


def _summary(runs: dict[str, list[dict[str, float]]], name: str) -> dict[str, float]:
    best = max(runs[name], key=lambda r: r["rps"])
    ratios = sorted(r["rps"] / b["rps"] for r, b in zip(runs[name], runs["bare"], strict=True))
    return {
        "rps": best["rps"],
        "p99_ms": best["p99_ms"],
        "ratio": ratios[len(ratios) // 2],
        "cpu_ms": min(r["cpu_ms"] for r in runs[name]),
        "errors": sum(r["errors"] for r in runs[name]),
        "requests": sum(r["requests"] for r in runs[name]),
    }


def report(results: dict[str, Any], args: argparse.Namespace) -> bool:
    bare_cpu = results["bare"]["cpu_ms"]
    ok = True
    heads = ("req/s", "vs bare", "p99 ms", "CPU ms/req", "CPU ratio", "errors")
    print(f"\n{'page':<8}" + "".join(f"{h:>11}" for h in heads))
    for name, r in results.items():
        good = r["p99_ms"] < 100 and r["errors"] == 0 and (name == "bare" or r["ratio"] >= 0.5)
        ok &= good
        flag = "" if good else "  ← misses the target"
        print(
            f"{name:<8}{r['rps']:>11.0f}{r['ratio']:>11.0%}{r['p99_ms']:>11.1f}"
            f"{r['cpu_ms']:>11.2f}{bare_cpu / r['cpu_ms']:>11.0%}"
            f"{r['errors']:>6}/{r['requests']}{flag}"
        )
    print(json.dumps({"connections": args.connections, "duration_s": args.duration, **results}))
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="call-log rows in total")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of bare → users → calls")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep the prepared data here and reuse it on the next run (default: a temp dir)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: install the Debian package (apt-get install -y wrk)")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="vaxel-site-bench-"))
    site_port, bare_port = free_port(), free_port()
    env = environment(data_dir, args.database_url, site_port)
    servers: list[subprocess.Popen] = []
    try:
        email, password, secret = prepare(env, args.rows)
        servers = start_servers(env, site_port, bare_port)
        site = f"http://127.0.0.1:{site_port}"
        cookie = sign_in(site, email, password, secret)
        site_pid, bare_pid = servers[0].pid, servers[1].pid
        pages = {
            "bare": (f"http://127.0.0.1:{bare_port}/", bare_pid),
            "users": (f"{site}/users/", site_pid),
            "calls": (f"{site}/calls/", site_pid),
        }
        ok = report(measure(pages, cookie, args), args)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
