"""Issue 16 item 7: no internal code where a person reads.

Every page (tests/web/page_walk.py) is read as company admin, user and operator, in Swedish
and in English, on the demo companies with an incident, forwarding changes, fraud alerts
and the audit log filled; the visible text must not hold a known internal code: snake_case
words, audit actions (`calllog.view`), `user 2`, JSON escapes, `(none)`, company slugs on
operator pages, `1 personer`, and in Swedish the stored English words (`availability`, `low`).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from admin_web.audit_words import ACTION_LABELS, SUBJECT_LABELS, AuditWords
from fixtures.demo import COMPANIES
from tests.web.conftest import csrf_token
from tests.web.page_walk import Page, all_pages, demo_people, sign_in

EMAIL_OR_URL = re.compile(r"\S+@\S+|https?://\S+|\b[\w.-]+\.(?:se|example|com|wav|csv)\b")
ALWAYS = [
    re.compile(r"\b[a-z]+_[a-z_]+\b"),
    re.compile(rf"\b(?:{'|'.join(SUBJECT_LABELS)})\.[a-z_]+\b"),
    re.compile(r"\\u00[0-9a-f]{2}"),
    re.compile(r"\((?:none|service)\)"),
    re.compile(r"\b(?:user|slot|tenant|ivr|queue) \d+\b"),
    re.compile(r"(?<![\d,.])\b1 (?:personer|administratörer|konton|meddelanden)\b"),
    re.compile(r"(?<![\d,.])\b1 (?:people|admins|accounts|messages)\b"),
]
SWEDISH_ONLY = re.compile(
    r"\b(?:answered|inbound|outbound|recorded|cancelled|unconditional|availability|"
    r"confidentiality|integrity|low|medium|high|planned|overdue|pending|busy|refused|"
    r"abandoned|declined|silent|forwarded|legs|open|dismissed|contained)\b"
)
SLUGS = re.compile(rf"\b(?:{'|'.join(c.slug for c in COMPANIES)})\b")


# Not read: code, and what a person types as written (a CSV column's name, in <code>).
HIDDEN = ("script", "style", "template", "code")
# Names a person types as written: the user import's optional CSV column.
TYPED = frozenset({"mobile_reason"})


class VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self.hidden += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "alt", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return EMAIL_OR_URL.sub(" ", " ".join(" ".join(parser.parts).split()))


def codes_in(page: Page, language: str) -> list[str]:
    text = visible(page.html)
    found = [m.group(0) for pattern in ALWAYS for m in pattern.finditer(text)]
    found = [code for code in found if code not in TYPED]
    if language == "sv":
        found += [m.group(0) for m in SWEDISH_ONLY.finditer(text)]
    if page.role == "operator" and page.url.startswith(("/operator", "/incidents")):
        found += [m.group(0) for m in SLUGS.finditer(text)]
    return found


def test_the_reader_finds_the_codes_of_the_report() -> None:
    page = Page(
        "operator",
        "/operator/forwarding",
        "<p>calllog.view user 2 {&#34;name&#34;: &#34;K\\u00e4&#34;} (none) no_answer "
        "bergstrom-bygg 1 personer <script>var a_b = 1</script></p>",
    )
    assert len(codes_in(page, "sv")) == 7


def test_every_recorded_action_has_words() -> None:
    """The actions the code writes to the audit log all have a label of their own."""
    from pathlib import Path

    source = "\n".join(
        p.read_text() for root in ("pbx", "admin_web") for p in Path(root).rglob("*.py")
    )
    written = set(re.findall(r'audit\.record\(\s*\w+,\s*\w+,\s*"([a-z_.]+)"', source))
    written |= set(re.findall(r'_ACTION = "([a-z_]+\.[a-z_.]+)"', source))
    assert len(written) > 40
    assert sorted(written - set(ACTION_LABELS)) == []
    words = AuditWords(str, {})
    assert words.action("something.new") == "Setting: changed"


def test_fraud_reasons_are_sentences_from_the_catalogue() -> None:
    """Why a fraud rule acted is stored with its code; the pages read a sentence, the mails'
    Swedish and the catalogue's are the same."""
    from admin_web.audit_words import fraud_reason
    from admin_web.i18n import load_catalog
    from pbx.services.fraud.reasons import OTHER, SENTENCES

    swedish = load_catalog("sv")
    pairs = [*SENTENCES.values(), OTHER]
    assert {en: swedish.get(en) for _, en in pairs} == {en: sv for sv, en in pairs}
    stored = "intl_legs_user_hour: 20 legs (limit 15)"
    in_swedish = fraud_reason(lambda text: swedish.get(text, text), stored)
    assert in_swedish == "20 utlandssamtal på en timme från en användare (gränsen är 15)"
    in_english = AuditWords(str, {}).value("reason", stored)
    assert in_english == "20 calls abroad in one hour from one user (the limit is 15)"
    assert AuditWords(str, {}).value("reason", "wrong password") == "wrong password"


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    people = demo_people(app)
    operator = sign_in(app, people["operator"])
    made = operator.post(
        "/incidents/new",
        data={
            "csrf_token": csrf_token(operator, "/incidents/new"),
            "title": "Raderade meddelanden",
            "discovered_at": "2026-04-26T16:00",
            "nature": "availability",
            "tenants": [COMPANIES[0].slug],
            "severity": "low",
            "subjects_informed": "not_required",
        },
    )
    assert made.status_code == 302, made.get_data(as_text=True)
    people["incident"] = made.headers["Location"].rsplit("=", 1)[1]
    return people


@pytest.mark.parametrize("language", ["sv", "en"])
def test_no_internal_code_on_any_page(app: Flask, people: dict[str, Any], language: str) -> None:
    found, read, shown = [], 0, {}
    for page in all_pages(app, people, language):
        read += 1
        shown[page.role, page.url] = visible(page.html)
        found += [f"{page.role} {page.url}: {code}" for code in codes_in(page, language)]
    for role in ("admin", "operator"):
        tenant = people["tenant_id"] if role == "operator" else None
        client = sign_in(app, people[role], tenant)
        with client.session_transaction() as state:
            state["lang"] = language
        show = client.get(f"/incidents/show?id={people['incident']}")
        page = Page(role, "/incidents/show", show.get_data(as_text=True))
        found += [f"{role} /incidents/show: {code}" for code in codes_in(page, language)]
    assert read > 60
    assert sorted(set(found)) == []
    if language == "sv":  # the walk saw the states it was given (page_walk.demo_people)
        assert "Nekat" in shown["admin", "/calls/"]
        assert "vidarekopplade samtal" in shown["operator", "/operator/"]
        assert COMPANIES[0].name in shown["operator", "/operator/"]
    # the contained account's reason (stored with the rule's code) and the restored version
    why = {
        "sv": "20 utlandssamtal på en timme från en användare (gränsen är 15)",
        "en": "20 calls abroad in one hour from one user (the limit is 15)",
    }[language]
    assert why in shown["operator", "/operator/"] and why in shown["operator", "/audit"]
    assert "Version: 2 Version: 1" in shown["admin", "/audit"]
