"""The demo site as `pbx demo` serves it (PBX_MODE=demo, the demo companies loaded), for the
walk-throughs of the played incidents: `app` here replaces the plain site of tests/web."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from fixtures.demo import load_demo
from tests.web.accounts import build_app


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The demo site (PBX_MODE=demo) with the demo companies."""
    application = build_app(db_url, tmp_path / "data", mode="demo")
    load_demo(application.extensions["pbx"], calls_per_day=2)
    yield application
    application.extensions["pbx"].close()
