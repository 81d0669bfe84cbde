"""`pbx serve`: the admin site under gunicorn (never Flask's development server).

The per-IP rate limits (SECURITY.md 11) are counted where the limiter keeps them: in Redis
when PBX_REDIS_URL is set, else in one process's memory. Several worker processes without
Redis would each count on their own (70 rapid sign-in attempts got 57–60 through a limit of
30 a minute with two), so without Redis the site runs ONE worker process and serves
concurrent requests with threads; `--workers N` then sets the thread count's scale and the
start-up line says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

THREADS_PER_WORKER = 4


@dataclass(frozen=True)
class WorkerPlan:
    workers: int
    threads: int
    message: str


def worker_plan(requested: int, redis_url: str) -> WorkerPlan:
    """How many worker processes and threads to run, and the start-up line that says why."""
    if redis_url:
        return WorkerPlan(
            requested,
            THREADS_PER_WORKER,
            f"{requested} worker process(es) × {THREADS_PER_WORKER} threads; rate limits "
            "shared through Redis (PBX_REDIS_URL)",
        )
    threads = THREADS_PER_WORKER * requested
    return WorkerPlan(
        1,
        threads,
        f"1 worker process × {threads} threads: without PBX_REDIS_URL the rate limits live "
        "in one process's memory, so one process serves everything (set PBX_REDIS_URL to "
        "run several)",
    )


def run_gunicorn(
    host: str, port: int, workers: int, env: dict[str, str] | None = None, redis_url: str = ""
) -> None:
    import os

    from gunicorn.app.base import BaseApplication

    if env:
        os.environ.update(env)  # workers build their own settings from the environment
    plan = worker_plan(workers, redis_url)
    click.echo(f"Serving on http://{host}:{port}/ with {plan.message}.")

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", plan.workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", plan.threads)
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
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes with PBX_REDIS_URL; without it one process with 4×N threads.",
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the administration site with gunicorn."""
    from admin_web.cli.base import settings_from_env
    from pbx.config import load_settings

    settings = load_settings()  # fail now, in one line, if e.g. PBX_SECRET_KEY is missing
    settings_from_env()
    _sweep_leftovers(settings)
    run_gunicorn(host, port, workers, redis_url=settings.redis_url)


def _sweep_leftovers(settings: Any) -> None:
    """Temp files killed writers left in the blob store (older than any running writer)."""
    if settings.media_store != "files":
        return
    from storage.blobs import STALE_TEMP_SECONDS, FileBlobStore

    removed = FileBlobStore(settings.blob_dir).sweep_temp(older_than=STALE_TEMP_SECONDS)
    if removed:
        click.echo(f"Removed {removed} leftover temp file(s) of killed writers (blob store).")
