"""Configuration: defaults → file → environment, and no insecure fallbacks."""

from pathlib import Path

import pytest

from pbx.config import ConfigError, load_settings

KEY = "k" * 40


def test_defaults_put_everything_under_the_data_directory() -> None:
    settings = load_settings({"PBX_SECRET_KEY": KEY})
    assert settings.data_dir == Path("var")
    assert (
        settings.database_url.startswith("sqlite:///")
        and "var/pbx.sqlite3" in settings.database_url
    )
    assert settings.blob_dir == Path("var/blobs")


def test_production_refuses_to_start_without_a_secret_key() -> None:
    with pytest.raises(ConfigError, match="PBX_SECRET_KEY"):
        load_settings({})
    with pytest.raises(ConfigError, match="PBX_SECRET_KEY"):
        load_settings({"PBX_SECRET_KEY": "short"})


def test_demo_and_test_modes_do_not_need_a_key_but_have_no_fallback() -> None:
    settings = load_settings({"PBX_MODE": "demo"})
    assert settings.secret_key == ""
    with pytest.raises(ConfigError):
        settings.require_secret_key()


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "pbx.toml"
    path.write_text(f'data_dir = "/srv/pbx"\nmedia_store = "database"\nsecret_key = "{KEY}"\n')
    settings = load_settings({"PBX_CONFIG": str(path), "PBX_MEDIA_STORE": "files"})
    assert settings.data_dir == Path("/srv/pbx")
    assert settings.media_store == "files"  # the environment wins over the file


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PBX_MODE": "staging"}, "PBX_MODE"),
        ({"PBX_MODE": "demo", "PBX_MEDIA_STORE": "s3"}, "PBX_MEDIA_STORE"),
        ({"PBX_CONFIG": "/nonexistent.toml"}, "not found"),
    ],
)
def test_bad_settings_are_clear_errors(env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_unknown_keys_in_the_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "pbx.toml"
    path.write_text('mode = "demo"\ndatabse_url = "x"\n')
    with pytest.raises(ConfigError, match="databse_url"):
        load_settings({"PBX_CONFIG": str(path)})


def test_secret_key_fallbacks_from_the_environment_and_their_length() -> None:
    old, older = "o" * 32, "p" * 40
    env = {"PBX_MODE": "test", "PBX_SECRET_KEY_FALLBACKS": f"{old}, {older}"}
    assert load_settings(env).secret_key_fallbacks == (old, older)
    with pytest.raises(ConfigError, match="FALLBACKS"):
        load_settings({"PBX_MODE": "test", "PBX_SECRET_KEY_FALLBACKS": "short"})


def test_sip_front_settings_are_read_and_checked() -> None:
    from pbx.config import rtp_port_range

    env = {
        "PBX_MODE": "test", "PBX_SIP_PORT": "5070", "PBX_RTP_PORTS": "30000-30999",
        "PBX_TRUNK_HOSTS": "127.0.0.1, 127.0.0.2:5060", "PBX_SIP_ALLOW_REMOTE": "yes",
    }  # fmt: skip
    settings = load_settings(env)
    assert settings.sip_port == 5070 and settings.sip_allow_remote is True
    assert settings.trunk_hosts == ("127.0.0.1", "127.0.0.2:5060")
    assert rtp_port_range(settings) == (30000, 30999)
    assert load_settings({"PBX_MODE": "test"}).sip_allow_remote is False
    for bad in ({"PBX_SIP_PORT": "70000"}, {"PBX_SIP_ALLOW_REMOTE": "maybe"}):
        with pytest.raises(ConfigError):
            load_settings({"PBX_MODE": "test", **bad})
    with pytest.raises(ConfigError):
        rtp_port_range(load_settings({"PBX_MODE": "test", "PBX_RTP_PORTS": "3000"}))
