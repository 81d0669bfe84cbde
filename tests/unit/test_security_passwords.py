"""SECURITY.md items 1 and 2: the password policy."""

from __future__ import annotations

import unicodedata

import pytest

from pbx.security.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    PasswordContext,
    PasswordProblem,
    english_message,
    load_blocklist,
    validate_password,
)

NO_CONTEXT = PasswordContext()
ANNA = PasswordContext(
    user_name="Anna Svensson", email="anna.svensson@acmebygg.se", company_name="Acme Bygg AB"
)
# Long, unusual and free of context words: its prefixes pass every rule.
PHRASE = (
    "Gröna äpplen dansar tyst bakom blå fyrar medan sju kloka ugglor räknar stjärnor över "
    "Vättern, och ingen vet varför månen ler så snett ikväll när tågen sover"
)


def codes(password: str, context: PasswordContext = NO_CONTEXT) -> list[str]:
    return [p.code for p in validate_password(password, context)[0]]


def only_problem(password: str, context: PasswordContext = NO_CONTEXT) -> PasswordProblem:
    problems, _ = validate_password(password, context)
    assert len(problems) == 1, problems
    return problems[0]


def test_14_characters_rejected_15_accepted() -> None:
    assert MIN_LENGTH == 15
    problem = only_problem("Kx9#mQ2$vL7!pR")
    assert problem == PasswordProblem("too_short", {"min_length": 15, "length": 14})
    assert codes("Kx9#mQ2$vL7!pR4") == []


@pytest.mark.parametrize("length", [15, 64, 100, 128])
def test_long_passwords_accepted_up_to_128(length: int) -> None:
    password = PHRASE[:length]
    assert len(password) == length
    assert codes(password) == []


def test_129_characters_rejected_as_too_long() -> None:
    assert MAX_LENGTH == 128
    problem = only_problem(PHRASE[:129])
    assert problem == PasswordProblem("too_long", {"max_length": 128, "length": 129})


def test_spaces_and_emoji_are_kept_not_stripped() -> None:
    password = "  kaffe på balkongen 😀 i regnet  "
    problems, normalised = validate_password(password, NO_CONTEXT)
    assert problems == []
    assert normalised == password
    assert codes("               ") == ["too_weak"]  # allowed characters, but guessable


def test_length_counts_code_points_after_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "åäöåäöåäöåäöåx")  # 14 characters, 27 code points
    assert len(decomposed) == 27
    problems, normalised = validate_password(decomposed, NO_CONTEXT)
    assert normalised == unicodedata.normalize("NFC", decomposed)
    assert "too_short" in [p.code for p in problems]


def test_composed_and_decomposed_give_the_same_normalised_password() -> None:
    composed = "Blåbärssylt på morgonen, tack"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert validate_password(decomposed, NO_CONTEXT) == validate_password(composed, NO_CONTEXT)


def test_blocklist_is_shipped_with_at_least_10000_entries() -> None:
    blocklist = load_blocklist()
    assert len(blocklist) >= 10_000
    assert {"password", "123456", "qwerty", "iloveyou"} <= blocklist
    assert not any(entry.startswith("#") for entry in blocklist)  # the provenance line


@pytest.mark.parametrize("password", ["1qaz2wsx3edc4rfv", "1QAZ2WSX3EDC4RFV", "qwertyuiop12345"])
def test_blocklisted_password_rejected_with_reason(password: str) -> None:
    problem = only_problem(password)
    assert problem == PasswordProblem("blocklisted", {"variant": "exact"})
    assert "common" in english_message(problem)


@pytest.mark.parametrize(
    "password",
    [
        "passwordpassword",
        "PasswordPassword",
        "password123456789!",
        "!!!!password2024!!!!",
        "monkey monkey monkey",
        "dragon2024dragon2024",
        "P@ssw0rdP@ssw0rd",
        "pässwordpässword",
    ],
)
def test_blocklisted_word_repeated_or_padded_rejected(password: str) -> None:
    problem = only_problem(password)
    assert problem == PasswordProblem("blocklisted", {"variant": "derived"})
    assert "repeated" in english_message(problem)


@pytest.mark.parametrize(
    ("password", "word"),
    [
        ("annasvensson1987!!", "Anna Svensson"),
        ("a.n.n.a.s.v.e.n.s.s.o.n", "Anna Svensson"),
        ("Sv3ns5on horse battery", "Svensson"),
        ("blue acmebygg forever!", "acmebygg"),
        ("Acme rocks on Fridays!", "Acme"),
        ("Ringer 3Växel alla dagar", "3vaxel"),
        ("jag gillar växelkurser", "växel"),
        ("min VAXEL har ett lösen", "växel"),
        ("bästa pbx:en i stan 2024", "pbx"),
        ("Tre2024!Tre2024!", "tre"),
        ("tretretretretre", "tre"),
        ("the switchboard is ringing", "switchboard"),
    ],
)
def test_context_words_rejected_with_reason(password: str, word: str) -> None:
    problem = only_problem(password, ANNA)
    assert problem == PasswordProblem("contains_context_word", {"word": word})
    assert f'"{word}"' in english_message(problem)


@pytest.mark.parametrize(
    "password",
    [
        "street extreme entrepreneur",  # contains "tre" inside words
        "jag har tre katter och en hund",  # "tre" as an ordinary Swedish word
        "abbey road at dawn, twice",  # contains "ab" (Acme Bygg AB)
    ],
)
def test_short_context_words_only_count_alone(password: str) -> None:
    assert codes(password, ANNA) == []


def test_weak_but_long_password_rejected_by_strength_estimate() -> None:
    problem = only_problem("qwertyuiopasdfghjkl")
    assert problem.code == "too_weak"
    assert problem.params["min_score"] == 3
    assert int(problem.params["score"]) < 3
    assert "guess" in english_message(problem)


def test_every_code_has_a_distinct_english_message() -> None:
    problems = [
        PasswordProblem("too_short", {"min_length": 15, "length": 3}),
        PasswordProblem("too_long", {"max_length": 128, "length": 200}),
        PasswordProblem("blocklisted", {"variant": "exact"}),
        PasswordProblem("blocklisted", {"variant": "derived"}),
        PasswordProblem("contains_context_word", {"word": "Acme"}),
        PasswordProblem("too_weak", {"score": 1, "min_score": 3}),
    ]
    messages = [english_message(p) for p in problems]
    assert len(set(messages)) == len(messages)


def test_short_and_blocklisted_reports_both_reasons() -> None:
    assert codes("password") == ["too_short", "blocklisted"]
