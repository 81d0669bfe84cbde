"""Shared CLI plumbing: one-line errors for user mistakes, the runtime, JSON output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from admin_web.runtime import Runtime
from pbx.config import ConfigError, Settings, load_settings
from pbx.errors import PbxError
from storage.blobs import BlobError

# Errors that are the user's to fix: print one line and exit 2, never a traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (PbxError, ConfigError, BlobError, ValueError)


class PbxGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            raise click.ClickException(_one_line(exc)) from None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if isinstance(command, click.Group) and not isinstance(command, PbxGroup):
            command.__class__ = PbxGroup
        return command


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def settings_from_env(**overrides: Any) -> Settings:
    """Most commands sign nothing, so they run without PBX_SECRET_KEY; those that need it
    call `settings.require_secret_key()`."""
    return load_settings(overrides=overrides or None, require_secret=False)


@contextmanager
def runtime(**overrides: Any) -> Iterator[Runtime]:
    rt = Runtime.build(settings_from_env(**overrides))
    try:
        if not rt.schema_is_current():
            raise click.ClickException("the database is not migrated: run `pbx db upgrade`")
        yield rt
    finally:
        rt.close()


def emit_json(payload: Any) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
