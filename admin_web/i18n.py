"""Swedish by default, English selectable.

Message ids are English; `translations/sv/*.po` hold the Swedish texts (one file per
feature, so features do not edit the same file). Catalogs are parsed once at start-up with
Babel's PO reader; no compiled .mo files to build or commit.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from flask import Flask, g, session

LANGUAGES = ("sv", "en")
DEFAULT = "sv"
TRANSLATIONS = Path(__file__).parent / "translations"


def load_catalog(language: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted((TRANSLATIONS / language).glob("*.po")):
        with open(path, "rb") as fh:
            for message in read_po(fh):
                if message.id and message.string and isinstance(message.id, str):
                    texts[message.id] = str(message.string)
    return texts


def current_language() -> str:
    lang = getattr(g, "language", None)
    return lang if lang in LANGUAGES else DEFAULT


def init_app(app: Flask) -> None:
    catalogs = {lang: load_catalog(lang) for lang in LANGUAGES if lang != "en"}

    def gettext(text: str, **params: object) -> str:
        translated = catalogs.get(current_language(), {}).get(text, text)
        return translated % params if params else translated

    @app.before_request
    def _pick_language() -> None:
        # Swedish unless the user chose otherwise (the product is Swedish; a browser's
        # Accept-Language is not a choice).
        chosen = session.get("lang")
        g.language = chosen if chosen in LANGUAGES else DEFAULT

    app.jinja_env.globals.update(_=gettext, gettext=gettext, current_language=current_language)
    app.extensions["pbx_gettext"] = gettext


def gettext(text: str, **params: object) -> str:
    """For views: the same translation the templates use."""
    from flask import current_app

    translate = current_app.extensions["pbx_gettext"]
    result: str = translate(text, **params)
    return result
