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


def load_plurals(language: str) -> dict[str, tuple[str, str]]:
    """Plural entries (msgid_plural): singular id -> (one, many). Swedish, like English,
    has two forms: n == 1 and everything else."""
    forms: dict[str, tuple[str, str]] = {}
    for path in sorted((TRANSLATIONS / language).glob("*.po")):
        with open(path, "rb") as fh:
            for message in read_po(fh):
                if isinstance(message.id, tuple) and isinstance(message.string, tuple):
                    one, many = (str(s) for s in message.string[:2])
                    if one and many:
                        forms[str(message.id[0])] = (one, many)
    return forms


def current_language() -> str:
    lang = getattr(g, "language", None)
    return lang if lang in LANGUAGES else DEFAULT


def init_app(app: Flask) -> None:
    catalogs = {lang: load_catalog(lang) for lang in LANGUAGES if lang != "en"}

    plurals = {lang: load_plurals(lang) for lang in LANGUAGES if lang != "en"}

    def gettext(text: str, **params: object) -> str:
        translated = catalogs.get(current_language(), {}).get(text, text)
        return translated % params if params else translated

    def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
        """`n` is also a parameter of the texts: ngettext("%(n)s person", "%(n)s people", n)."""
        one, many = plurals.get(current_language(), {}).get(singular, (singular, plural))
        return (one if n == 1 else many) % {"n": n, **params}

    @app.before_request
    def _pick_language() -> None:
        # Swedish unless the user chose otherwise (the product is Swedish; a browser's
        # Accept-Language is not a choice).
        chosen = session.get("lang")
        g.language = chosen if chosen in LANGUAGES else DEFAULT

    app.jinja_env.globals.update(
        _=gettext, gettext=gettext, ngettext=ngettext, current_language=current_language
    )
    app.extensions["pbx_gettext"] = gettext
    app.extensions["pbx_ngettext"] = ngettext


def gettext(text: str, **params: object) -> str:
    """For views: the same translation the templates use."""
    from flask import current_app

    translate = current_app.extensions["pbx_gettext"]
    result: str = translate(text, **params)
    return result


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    """For views: one or many, through the catalogue's plural forms."""
    from flask import current_app

    result: str = current_app.extensions["pbx_ngettext"](singular, plural, n, **params)
    return result
