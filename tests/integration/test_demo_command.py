"""`pbx demo` end to end: fresh data, demo companies, gunicorn serving, logins printed."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PBX = [sys.executable, "-c", "from admin_web.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_serves_the_site_and_prints_logins(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PBX_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [*PBX, "demo", "--port", str(port), "--calls-per-day", "1", "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        output = _read_until(proc, "Second factor", timeout=180)
        assert re.search(r"operator\s+operator@vaxel\.example\s+password: \S{20,}", output)
        assert output.count("company_admin") >= 3
        page = _get(f"http://127.0.0.1:{port}/", timeout=60)
        assert "Växel" in page
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        assert proc.stdout is not None
        proc.stdout.close()
    # A second run starts from a fresh directory again (and the marker makes that safe).
    assert (tmp_path / "demo" / ".vaxel-demo").exists()


def test_demo_never_deletes_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "precious.txt").write_text("keep me")
    result = subprocess.run(
        [*PBX, "demo", "--no-serve"],
        capture_output=True,
        text=True,
        env={**os.environ, "PBX_DATA_DIR": str(tmp_path)},
        timeout=60,
    )
    assert result.returncode != 0 and "not a demo directory" in result.stderr
    assert (tmp_path / "demo" / "precious.txt").read_text() == "keep me"


def _read_until(proc: subprocess.Popen, marker: str, timeout: float) -> str:
    assert proc.stdout is not None
    deadline, lines = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError("demo did not finish setting up:\n" + "".join(lines))


def _get(url: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_the_demo_keeps_its_secret_key_so_it_can_be_served_again(tmp_path: Path) -> None:
    """`pbx demo --no-serve` then `PBX_CONFIG=var/demo/vaxel.toml pbx serve`: the same key,
    so the TOTP secrets encrypted at load time still decrypt (no refusal at the code step)."""
    from admin_web.cli.demo import write_config
    from pbx.config import load_settings
    from pbx.security.secretbox import SecretBox

    env = {
        "PBX_MODE": "demo",
        "PBX_DATA_DIR": str(tmp_path),
        "PBX_DATABASE_URL": f"sqlite:///{tmp_path / 'pbx.sqlite3'}",
        "PBX_SECRET_KEY": "demo-key-" + "k" * 40,
        "PBX_PUBLIC_URL": "http://127.0.0.1:8000",
    }
    sealed = SecretBox(env["PBX_SECRET_KEY"]).encrypt("JBSWY3DPEHPK3PXP", "user:1")
    path = write_config(tmp_path, env)
    assert path.stat().st_mode & 0o077 == 0  # the key is readable by the owner only
    served = load_settings({"PBX_CONFIG": str(path)})
    assert served.mode == "demo" and served.database_url == env["PBX_DATABASE_URL"]
    assert SecretBox(served.secret_key).decrypt(sealed, "user:1") == "JBSWY3DPEHPK3PXP"
