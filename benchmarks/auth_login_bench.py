"""Login and mass-reset costs of the accounts feature (issue 4), on SQLite and PostgreSQL.

1. A full login through the web app — POST /login (e-mail + password) then POST /login/code
   (TOTP), with the production Argon2id profile, the database, the audit log, the session
   row and the templates — against one Argon2 verification alone. Budget: login ≤ hash + 20 ms.
2. "Reset the passwords of all switchboard customers": `force_reset_all` over 100,000
   accounts in 1,000 companies, committed. Budget: < 30 s. Nothing is rehashed.

Run: .venv/bin/python benchmarks/auth_login_bench.py [--logins 20] [--users 100000]
     [--tenants 1000] [--backend sqlite|postgresql|both]
PostgreSQL: PBX_BENCH_PG_URL (default postgresql+psycopg://127.0.0.1:5432/test) names a
database the benchmark may create scratch databases from.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text

from admin_web.app import create_app
from pbx.config import load_settings
from pbx.security.hashing import (
    PRODUCTION_PROFILE,
    HashProfile,
    hash_password,
    profile_named,
    verify_password,
)
from pbx.security.totp import Totp
from pbx.services.accounts import admin as accounts_admin
from pbx.services.accounts import core as accounts
from pbx.services.accounts import totp as accounts_totp
from pbx.services.accounts.core import AccountsConfig
from pbx.services.common.actor import SYSTEM
from pbx.services.people.users import create_user
from pbx.services.tenants.companies import create_tenant
from storage.db import make_engine, make_session_factory, session_scope
from storage.migrate import upgrade
from storage.models import Tenant, User

PG_ADMIN = os.environ.get("PBX_BENCH_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
SECRET_KEY = secrets.token_urlsafe(48)
PASSWORD = "gröna äpplen dansar tyst bakom fyren"


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A scratch database migrated to head; dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            _migrate(url)
            yield url
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"pbx_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def _csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    html = client.get(path).get_data(as_text=True)
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def bench_login(url: str, logins: int, profile: str = "production") -> dict[str, float]:
    """Median ms of a full two-step login vs one Argon2 verification of the same profile."""
    data_dir = Path(tempfile.mkdtemp())
    settings = load_settings(
        environ={},
        overrides={
            "mode": "test",
            "database_url": url,
            "data_dir": str(data_dir),
            "secret_key": SECRET_KEY,
            "password_hash_profile": profile,
        },
    )
    app = create_app(settings)
    people = _login_accounts(app, logins)
    wall, cpu, hash_wall, hash_cpu = [], [], [], []
    for n, (email, secret) in enumerate(people):
        login = _one_login(app, n, email, secret)
        wall.append(login[0])
        cpu.append(login[1])
        verify = _time_verify(profile_named(profile))
        hash_wall.append(verify[0])
        hash_cpu.append(verify[1])
    app.extensions["pbx"].close()
    return {
        "login_ms": statistics.median(wall),
        "login_min_ms": min(wall),
        "login_cpu_ms": statistics.median(cpu),
        "argon2_verify_ms": statistics.median(hash_wall),
        "argon2_min_ms": min(hash_wall),
        "argon2_cpu_ms": statistics.median(hash_cpu),
    }


def _one_login(app, n: int, email: str, secret: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wall and CPU ms of the two POSTs of one login. The code page's GET (for its CSRF
    token) is left out: a browser loads that page anyway and it does no security work."""
    client = app.test_client()
    env = {"REMOTE_ADDR": f"10.9.{n // 250}.{n % 250 + 1}"}
    first = {"email": email, "password": PASSWORD, "csrf_token": _csrf(client, "/login")}
    w0, c0 = time.perf_counter(), time.process_time()
    step1 = client.post("/login", data=first, environ_base=env)
    w1, c1 = time.perf_counter(), time.process_time()
    assert step1.location.endswith("/login/code"), step1.get_data(as_text=True)
    token = _csrf(client, "/login/code")
    code = {"code": Totp.code_at(secret, time.time()), "csrf_token": token}
    w2, c2 = time.perf_counter(), time.process_time()
    step2 = client.post("/login/code", data=code, environ_base=env)
    w3, c3 = time.perf_counter(), time.process_time()
    assert step2.status_code == 302 and step2.location == "/", step2.get_data(as_text=True)
    return (w1 - w0 + w3 - w2) * 1000, (c1 - c0 + c3 - c2) * 1000


def _time_verify(profile: HashProfile) -> tuple[float, float]:
    """Wall and CPU ms of one verification (CPU counts all of Argon2's lanes)."""
    stored = hash_password(PASSWORD, profile)
    w0, c0 = time.perf_counter(), time.process_time()
    verify_password(stored, PASSWORD)
    return (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000


def _login_accounts(app, count: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Admins with production-profile passwords and TOTP enrolled (one login each: a code
    is accepted once, so every timed login uses its own account)."""
    config = AccountsConfig.from_settings(app.config["PBX_SETTINGS"])
    people = []
    with app.extensions["pbx"].unit_of_work() as s:
        tenant = create_tenant(
            s, SYSTEM, name="Benchbolaget AB", org_number="556036-0793", slug="bench"
        )
        for n in range(count):
            user = create_user(
                s,
                SYSTEM,
                tenant,
                name=f"Admin {n}",
                email=f"admin{n}@bench.se",
                role="company_admin",
            )
            link = accounts.issue_link(s, config, SYSTEM, user, "setup")
            accounts.complete_link(s, config, link.rsplit("/", 1)[1], PASSWORD)
            secret = accounts_totp.offer(user).secret
            earlier = datetime.fromtimestamp(time.time() - 2 * Totp.INTERVAL, UTC)
            code = Totp.code_at(secret, earlier)
            accounts_totp.confirm(s, config, SYSTEM, user, secret, code, now=earlier)
            people.append((user.email, secret))
    return people


def seed_customers(url: str, tenants: int, users: int) -> None:
    """Bulk rows for the reset benchmark (set-up, not timed; one shared hash: the reset
    never looks at it)."""
    engine = make_engine(url)
    stored = hash_password(PASSWORD, PRODUCTION_PROFILE)
    per_tenant = users // tenants
    with session_scope(make_session_factory(engine)) as s:
        s.execute(
            insert(Tenant),
            [
                {"slug": f"t{n:05d}", "name": f"Företag {n} AB", "org_number": f"{n:06d}-0000"}
                for n in range(tenants)
            ],
        )
        ids = list(s.scalars(select(Tenant.id).order_by(Tenant.id)))
        rows = [
            {
                "tenant_id": ids[n // per_tenant],
                "name": f"Person {n}",
                "email": f"p{n}@t{n // per_tenant}.se",
                "extension": f"{100 + n % per_tenant}",
                "role": "user",
                "status": "active",
                "password_hash": stored,
                "must_change_password": False,
                "session_token": secrets.token_hex(32),
            }
            for n in range(per_tenant * tenants)
        ]
        for start in range(0, len(rows), 10_000):
            s.execute(insert(User), rows[start : start + 10_000])
    engine.dispose()


def bench_mass_reset(url: str, tenants: int, users: int) -> dict[str, float]:
    seed_customers(url, tenants, users)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    config = AccountsConfig(PRODUCTION_PROFILE, SECRET_KEY, "https://vaxel.example")
    started = time.perf_counter()
    with session_scope(factory) as s:
        links = accounts_admin.force_reset_all(s, config, SYSTEM)
    seconds = time.perf_counter() - started
    with session_scope(factory) as s:
        left = s.scalar(select(func.count()).where(User.must_change_password.is_(False)))
    engine.dispose()
    assert len(links) == users and left == 0
    return {"reset_seconds": seconds, "accounts": float(len(links))}


def _report(backend: str, label: str, f: dict[str, float]) -> None:
    print(
        f"{backend:<10} login, {label}: median {f['login_ms']:.1f} ms (min {f['login_min_ms']:.1f},"
        f" CPU {f['login_cpu_ms']:.1f}); Argon2id verify alone: median "
        f"{f['argon2_verify_ms']:.1f} ms (min {f['argon2_min_ms']:.1f}, CPU "
        f"{f['argon2_cpu_ms']:.1f}) -> login minus hash: median "
        f"{f['login_ms'] - f['argon2_verify_ms']:.1f} ms, min "
        f"{f['login_min_ms'] - f['argon2_min_ms']:.1f} ms, CPU "
        f"{f['login_cpu_ms'] - f['argon2_cpu_ms']:.1f} ms (budget 20 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=20)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        with database(backend) as url:
            login = bench_login(url, args.logins)
        with database(backend) as url:
            fast = bench_login(url, args.logins, "test-only-fast")
        _report(backend, "production hash", login)
        _report(backend, "~0 ms hash", fast)
        with database(backend) as url:
            reset = bench_mass_reset(url, args.tenants, args.users)
        print(
            f"{backend:<10} force_reset_all: {int(reset['accounts']):,} accounts in "
            f"{args.tenants:,} companies: {reset['reset_seconds']:.1f} s (budget 30 s)"
        )


if __name__ == "__main__":
    main()
