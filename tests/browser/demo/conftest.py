"""The demo site as `pbx demo` serves it (PBX_MODE=demo, the demo companies loaded), for the
walk-throughs of the played incidents: `app` here replaces the plain site of tests/web."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.web.accounts import demo_site


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The demo site (PBX_MODE=demo) with the demo companies."""
    with demo_site(db_url, tmp_path / "data") as application:
        yield application
