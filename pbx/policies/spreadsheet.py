"""Cells of the CSV files people open in a spreadsheet (call log, statistics, affected
callers, voicemail call-backs).

A cell that starts like a formula (`=`, `+`, `-`, `@`, a tab or a carriage return) is run by
Excel and LibreOffice when the file is opened: a queue or user named `=HYPERLINK(...)` would
become a link out of the company's own export (CSV injection, OWASP). Such a cell gets a
leading quote. A valid E.164 number keeps its `+`: it is data, shown as a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def cell(value: object) -> str:
    """One cell as text: an empty value is an empty cell, 0 stays 0, a date is ISO 8601."""
    if isinstance(value, datetime):
        text = value.isoformat()
    else:
        text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not E164.match(text):
        return "'" + text
    return text


def row(values: Iterable[object]) -> list[str]:
    return [cell(v) for v in values]
