"""`pbx demo` end to end: fresh data, demo companies, gunicorn serving, logins printed; the
SIP front beside the site, with phone credentials that a real baresip registers and calls
with."""

from __future__ import annotations

import array
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import wave
from pathlib import Path

PBX = [sys.executable, "-c", "from admin_web.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_serves_the_site_and_the_sip_front_and_prints_logins(tmp_path: Path) -> None:
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
        output = _read_until(proc, "Serve this demo's phones again", timeout=180)
        assert re.search(r"operator\s+operator@vaxel\.example\s+password: \S{20,}", output)
        assert output.count("company_admin") >= 3
        page = _get(f"http://127.0.0.1:{port}/", timeout=60)
        assert "Växel" in page
        _call_the_demo_from_baresip(output, tmp_path)
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


async def _registered(database: Path, timeout: float) -> None:
    import asyncio
    import sqlite3
    from contextlib import closing

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with closing(sqlite3.connect(database)) as db:
            if db.execute("select count(*) from phone_registrations").fetchone()[0]:
                return
        assert asyncio.get_running_loop().time() < deadline, "the demo phone never registered"
        await asyncio.sleep(0.2)


def _call_the_demo_from_baresip(output: str, tmp_path: Path) -> None:
    """The printed accounts line registers a real baresip, which dials the company's main
    number and hears its welcome message (not silence)."""
    import asyncio

    from tests.phone.real_peers import start_baresip

    front = re.search(r"SIP front: 127\.0\.0\.1:(\d+) \(UDP and TCP\), realm vaxel\n", output)
    assert front, output
    lines = re.findall(r"baresip \(~/\.baresip/accounts\): (\S+)", output)
    assert len(lines) == 2 and all(f"@127.0.0.1:{front.group(1)};" in line for line in lines)
    assert "+46852001000" in output and "333" in output and "pbx phone serve" in output

    async def call() -> Path:
        phone = await start_baresip(tmp_path, _silence(tmp_path / "mic.wav"), lines[0])
        try:
            # baresip may register before its control connection is up (its REGISTER_OK
            # event then goes unseen): the demo database says when the phone is registered.
            await _registered(tmp_path / "demo" / "pbx.sqlite3", 15)
            await phone.command("dial", "+46852001000")
            await phone.event("CALL_ESTABLISHED", 15)
            await asyncio.sleep(2.5)
            await phone.command("hangup")
            await phone.event("CALL_CLOSED", 10)
        finally:
            await phone.stop()
        return phone.recordings[-1]

    heard = asyncio.run(asyncio.wait_for(call(), 60))
    with wave.open(str(heard)) as w:
        samples = array.array("h", w.readframes(w.getnframes()))
    assert len(samples) > 8000 and max(abs(x) for x in samples) > 1000  # the welcome, spoken


def _silence(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000 * 5)
    return path


def test_a_taken_sip_port_is_replaced_by_a_free_one_and_said(capsys) -> None:
    from admin_web.cli.demo_phone import pick_sip_port

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        busy = int(taken.getsockname()[1])
        chosen = pick_sip_port(busy)
    assert chosen != busy
    said = capsys.readouterr().out
    assert f"Port {busy} is taken: the demo's SIP front uses {chosen} instead." in said
    free = free_port()
    assert pick_sip_port(free) == free


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
