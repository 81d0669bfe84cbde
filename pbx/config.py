"""Configuration: defaults → optional TOML file → environment, read once at start-up.

Nothing here runs at import time; the app factory and the CLI call `load_settings()` once
and pass the result along.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

MODES = ("production", "demo", "test")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    mode: str = "production"
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = ""
    # Old secret keys, newest first (like Flask's SECRET_KEY_FALLBACKS): sessions they signed
    # and TOTP secrets they encrypted still open; secrets are re-encrypted with the current
    # key when used. Drop a key once every session it signed has expired (12 h).
    secret_key_fallbacks: tuple[str, ...] = ()
    redis_url: str = ""
    # "files" keeps blobs under data_dir/blobs; "database" keeps them in the `blobs` table
    # so metadata and audio share one transactional store and one backup.
    media_store: str = "files"
    backup_dir: Path = Path("")
    password_hash_profile: str = "production"
    tts_engines: tuple[str, ...] = ("gtts", "espeak")
    public_url: str = "http://127.0.0.1:8000"
    smtp_url: str = ""
    # The SIP/RTP front (`pbx phone serve`): where it listens, its RTP ports, the digest
    # realm, and the carrier trunk: the addresses calls may come from (host or host:port)
    # and where calls to outside numbers are sent (host:port; empty: none leave).
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    rtp_ports: str = "20000-29999"
    sip_realm: str = "vaxel"
    trunk_hosts: tuple[str, ...] = ()
    trunk_address: str = ""
    # Off: the front sends SIP and RTP to loopback only (tests, the demo). A deployment
    # that serves phones on other machines turns it on knowingly.
    sip_allow_remote: bool = False
    # Behind a SIP edge (Kamailio, `pbx phone serve --workers N --edge`): the edge's addresses
    # (host or host:port). Requests it relays say where they came from; that is believed.
    sip_edge_hosts: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    def require_secret_key(self) -> str:
        if len(self.secret_key) < 32:
            raise ConfigError("PBX_SECRET_KEY must be set (at least 32 characters)")
        return self.secret_key


ENV_PREFIX = "PBX_"


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    require_secret: bool = True,
) -> Settings:
    """Build settings from defaults, the file named by PBX_CONFIG, then PBX_* variables.

    Commands that never sign anything (most of the CLI) pass `require_secret=False`; code
    that needs the key calls `Settings.require_secret_key()` and fails clearly without it.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if env.get("PBX_CONFIG"):
        values.update(_read_file(Path(env["PBX_CONFIG"])))
    for f in fields(Settings):
        key = ENV_PREFIX + f.name.upper()
        if key in env and f.name != "extra":
            values[f.name] = env[key]
    values.update(overrides or {})
    return _finish(_coerce(values), require_secret)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return dict(tomllib.load(fh))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _coerce(values: dict[str, Any]) -> Settings:
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    if "data_dir" in values:
        values["data_dir"] = Path(values["data_dir"])
    if isinstance(values.get("secret_key_fallbacks"), str):  # comma-separated in the env
        text = values["secret_key_fallbacks"]
        values["secret_key_fallbacks"] = tuple(k.strip() for k in text.split(",") if k.strip())
    elif "secret_key_fallbacks" in values:  # a TOML array
        values["secret_key_fallbacks"] = tuple(values["secret_key_fallbacks"])
    if "backup_dir" in values:
        values["backup_dir"] = Path(values["backup_dir"])
    for name in ("tts_engines", "trunk_hosts", "sip_edge_hosts"):
        if isinstance(values.get(name), str):
            values[name] = tuple(e.strip() for e in values[name].split(",") if e.strip())
    if isinstance(values.get("sip_allow_remote"), str):
        values["sip_allow_remote"] = _flag(values["sip_allow_remote"], "PBX_SIP_ALLOW_REMOTE")
    if "sip_port" in values:
        values["sip_port"] = _port(values["sip_port"], "PBX_SIP_PORT")
    return Settings(**values)


def _flag(text: str, name: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be true or false, not {text!r}")


def _port(value: Any, name: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a port number, not {value!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name} must be a port number (0-65535), not {port}")
    return port


def rtp_port_range(settings: Settings) -> tuple[int, int]:
    """`PBX_RTP_PORTS` ("20000-29999") as a range; a clear error when malformed."""
    low, dash, high = settings.rtp_ports.partition("-")
    if not dash:
        raise ConfigError(f"PBX_RTP_PORTS must look like 20000-29999, not {settings.rtp_ports!r}")
    first, last = _port(low, "PBX_RTP_PORTS"), _port(high, "PBX_RTP_PORTS")
    if first > last or first < 1024:
        raise ConfigError(f"PBX_RTP_PORTS must be a range above 1023, not {settings.rtp_ports!r}")
    return first, last


def _finish(settings: Settings, require_secret: bool) -> Settings:
    if settings.mode not in MODES:
        raise ConfigError(f"PBX_MODE must be one of {', '.join(MODES)}, not {settings.mode!r}")
    if settings.media_store not in ("files", "database"):
        raise ConfigError("PBX_MEDIA_STORE must be 'files' or 'database'")
    if require_secret and settings.mode == "production" and len(settings.secret_key) < 32:
        # No built-in fallback key (SECURITY.md 15): refuse to start instead.
        raise ConfigError("PBX_SECRET_KEY must be set (at least 32 characters) in production")
    if any(len(key) < 32 for key in settings.secret_key_fallbacks):
        raise ConfigError("each of PBX_SECRET_KEY_FALLBACKS needs at least 32 characters")
    if not settings.database_url:
        settings = replace(
            settings, database_url=f"sqlite:///{(settings.data_dir / 'pbx.sqlite3').resolve()}"
        )
    if settings.backup_dir == Path(""):
        settings = replace(settings, backup_dir=settings.data_dir / "backups")
    return settings
