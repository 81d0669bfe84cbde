"""`pbx serve`: the admin site under gunicorn (never Flask's development server)."""

from __future__ import annotations

from typing import Any

import click


def run_gunicorn(host: str, port: int, workers: int, env: dict[str, str] | None = None) -> None:
    import os

    from gunicorn.app.base import BaseApplication

    if env:
        os.environ.update(env)  # workers build their own settings from the environment

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("logger_class", "admin_web.access_log.RedactingLogger")
            self.cfg.set("preload_app", False)  # one engine per worker, no shared state

        def load(self) -> Any:
            from admin_web.app import create_app

            return create_app()

    _App().run()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Serve the administration site with gunicorn."""
    from admin_web.cli.base import settings_from_env
    from pbx.config import load_settings

    load_settings()  # fail now, in one line, if e.g. PBX_SECRET_KEY is missing
    settings_from_env()
    run_gunicorn(host, port, workers)
