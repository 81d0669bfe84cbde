"""Issue 16 item 8: the attributes of every form field on every page are real attributes.

The form macro once escaped its extra attributes into one string (`maxlength=&#34;100&#34;`),
so browsers ignored maxlength, min and autocomplete. Every page is read as each role and its
fields parsed: no attribute value is quoted twice, numbers are numbers.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from tests.web.page_walk import all_pages, demo_people

NUMERIC = {"maxlength", "minlength", "size", "rows", "cols"}
FIELDS = {"input", "textarea", "select", "button", "form"}
ESCAPED_ATTRIBUTE = re.compile(r"\s[a-z-]+=&#34;")


class Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FIELDS:
            self.fields.append((tag, attrs))


def wrong_attributes(html: str) -> list[str]:
    parser = Fields()
    parser.feed(html)
    wrong = [m.group(0) for m in ESCAPED_ATTRIBUTE.finditer(html)]
    for tag, attrs in parser.fields:
        for name, value in attrs:
            if value is None:
                continue
            if value.startswith('"') or value.endswith('"'):
                wrong.append(f"<{tag} {name}={value!r}>")
            elif name in NUMERIC and not value.isdigit():
                wrong.append(f"<{tag} {name}={value!r}>")
            elif name in {"min", "max"} and not re.fullmatch(r"-?[\d.:T-]+", value):
                wrong.append(f"<{tag} {name}={value!r}>")
            elif name == "autocomplete" and not re.fullmatch(r"[a-z -]+", value):
                wrong.append(f"<{tag} {name}={value!r}>")
    return wrong


def test_the_checker_catches_the_escaped_macro() -> None:
    html = '<input type="text" name="n" value="" required maxlength=&#34;100&#34;>'
    assert wrong_attributes(html)
    assert wrong_attributes('<input name="n" value="" maxlength="100">') == []


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    return demo_people(app)


def test_every_form_field_has_real_attributes(app: Flask, people: dict[str, Any]) -> None:
    wrong, forms, limited = [], 0, set()
    for page in all_pages(app, people):
        forms += page.html.count("<form")
        for problem in wrong_attributes(page.html):
            wrong.append(f"{page.role} {page.url}: {problem}")
        if 'maxlength="100"' in page.html:
            limited.add(page.url)
    assert wrong == []
    # The pages of the bug report are among those read: IVR, queue, company and new user.
    assert forms > 50
    assert {"/ivr/", "/queues/"} <= limited
