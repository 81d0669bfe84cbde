"""Every blueprint of the site, registered in one place (one line per feature)."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from admin_web.views.home import bp as home

    for blueprint in (home,):
        app.register_blueprint(blueprint)
