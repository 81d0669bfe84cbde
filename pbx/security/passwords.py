"""The password policy (SECURITY.md items 1 and 2) as one pure function.

`validate_password(password, context)` returns `(problems, normalised)`: every problem has a
stable code the web layer translates, and `normalised` is the NFC form that must be hashed.
Nothing is ever stripped or truncated and there are no composition rules (ASVS 6.2.5/6.2.9):
length, a blocklist, context words and a strength estimate decide.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Literal

from zxcvbn import zxcvbn

MIN_LENGTH = 15
MAX_LENGTH = 128
MIN_STRENGTH_SCORE = 3
# zxcvbn's matching grows faster than linearly: a 64-character leet-heavy input costs ~0.3 s
# here, 128 would cost seconds (and zxcvbn refuses more than 72 by default). It therefore sees
# at most the first 64 code points. A prefix can only be guessed more easily than the whole, so
# the cap errs towards rejecting: a password whose first 64 characters are weak is refused.
STRENGTH_INPUT_CAP = 64
# Words shorter than this are matched only as the whole password (see `_contains_word`),
# except the few that occur inside no ordinary Swedish or English word.
SHORT_WORD_LENGTH = 4
DISTINCT_SHORT_WORDS = frozenset({"pbx"})
SWITCHBOARD_WORDS = ("3vaxel", "växel", "vaxel", "pbx", "tre", "hi3g", "switchboard")

ProblemCode = Literal["too_short", "too_long", "blocklisted", "contains_context_word", "too_weak"]

# zxcvbn keeps the caller's user_inputs in a module-level dict between calls, so two threads
# validating at once could score against each other's words: serialise the calls.
_ZXCVBN_LOCK = threading.Lock()
_NOT_LETTER = re.compile(r"[\W\d_]+")
_SEPARATOR = re.compile(r"[\W_]+")
_LEET_I = str.maketrans("013457@$!+", "oieastasit")
_LEET_L = str.maketrans("013457@$!|", "oleastasll")


@dataclass(frozen=True)
class PasswordContext:
    """What the password must not contain: facts about the account it belongs to."""

    user_name: str = ""
    email: str = ""
    company_name: str = ""
    extra_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class PasswordProblem:
    """One reason a password was refused; `params` fill the translated message."""

    code: ProblemCode
    params: dict[str, str | int] = field(default_factory=dict)


def validate_password(password: str, context: PasswordContext) -> tuple[list[PasswordProblem], str]:
    """Check `password` against the policy; return the problems and the NFC form to hash."""
    normalised = unicodedata.normalize("NFC", password)
    length = len(normalised)
    if length > MAX_LENGTH:
        # Stop here: the other checks need not run on arbitrarily long input.
        too_long = PasswordProblem("too_long", {"max_length": MAX_LENGTH, "length": length})
        return [too_long], normalised
    problems: list[PasswordProblem] = []
    if length < MIN_LENGTH:
        problems.append(PasswordProblem("too_short", {"min_length": MIN_LENGTH, "length": length}))
    folded = fold(normalised)
    variant = blocklist_match(folded)
    if variant:
        problems.append(PasswordProblem("blocklisted", {"variant": variant}))
    words = context_words(context)
    word = next((shown for shown, key in words if _contains_word(folded, key)), None)
    if word is not None:
        problems.append(PasswordProblem("contains_context_word", {"word": word}))
    # The estimate is the least specific reason; only ask for it when nothing else is wrong.
    if not problems:
        score = strength_score(normalised, [key for _, key in words])
        if score < MIN_STRENGTH_SCORE:
            problems.append(
                PasswordProblem("too_weak", {"score": score, "min_score": MIN_STRENGTH_SCORE})
            )
    return problems, normalised


def english_message(problem: PasswordProblem) -> str:
    """The English text for a problem (the web layer has the translations)."""
    p = problem.params
    if problem.code == "too_short":
        return f"The password must be at least {p['min_length']} characters long."
    if problem.code == "too_long":
        return f"The password can be at most {p['max_length']} characters long."
    if problem.code == "blocklisted" and p.get("variant") == "exact":
        return "This password is on a list of common or leaked passwords."
    if problem.code == "blocklisted":
        return (
            "This password is a common or leaked password that is only repeated "
            "or has digits or symbols added."
        )
    if problem.code == "contains_context_word":
        return (
            f'The password must not contain "{p["word"]}": your name, e-mail address, '
            "company name and the name of the service are easy to guess."
        )
    return "The password is too easy to guess. A longer phrase of unusual words works well."


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for comparisons ("Växel" → "vaxel")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def load_blocklist() -> frozenset[str]:
    """The shipped list of common passwords (lower case), read once on first use."""
    text = files("pbx.security.data").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def blocklist_match(folded: str) -> Literal["exact", "derived"] | None:
    """Whether the folded password is listed ("exact") or a listed one dressed up ("derived")."""
    blocklist = load_blocklist()
    if folded in blocklist:
        return "exact"
    if any(candidate in blocklist for candidate in _derived_candidates(folded)):
        return "derived"
    return None


def _derived_candidates(folded: str) -> Iterator[str]:
    """The listed password hidden in a long one, if it is just repeated or padded.

    Almost every listed password is shorter than 15 characters, so the list alone catches
    little once the length rule applies. But "passwordpassword", "password123456789!" and
    "monkey monkey monkey" are the first things cracking rules try (repeat a word, append
    digits or symbols), so they count as the listed word: strip leading/trailing non-letters,
    split off whole repetitions, and look at the letters when they are one word repeated.
    Digits *inside* a word are left alone (only padding is stripped), and listed passwords
    all have at least 4 characters, so a short stem does not condemn a long random tail.
    """
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", folded)
    for text in (folded, core, _SEPARATOR.sub("", core)):
        yield text
        yield from _repeat_units(text)
    runs = [run for run in _NOT_LETTER.split(folded) if run]
    if runs and all(run == runs[0] for run in runs):
        yield runs[0]
        yield from _repeat_units(runs[0])


def _repeat_units(text: str) -> Iterator[str]:
    """Every u such that text == u * k with k >= 2 ("abab" → "ab")."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            yield text[:size]


def context_words(context: PasswordContext) -> list[tuple[str, str]]:
    """(shown, key) pairs: the word as the user knows it and its folded, compact key."""
    local, at, domain = context.email.rpartition("@")
    if not at:
        local, domain = context.email, ""
    sources: list[str] = []
    for phrase in (context.user_name, local):
        sources += [phrase, *_SEPARATOR.split(phrase)]
    sources += domain.split(".")[:-1]  # "acme" of "acme.se", not the top-level domain
    sources += [context.company_name, *_SEPARATOR.split(context.company_name)]
    sources += [*context.extra_words, *SWITCHBOARD_WORDS]
    words: dict[str, str] = {}
    for shown in sources:
        key = _SEPARATOR.sub("", fold(shown))
        if len(key) >= 2 and key not in words:
            words[key] = shown.strip()
    return [(shown, key) for key, shown in words.items()]


def _contains_word(folded: str, key: str) -> bool:
    """Whether the folded password contains the context word `key`.

    Words of 4 or more characters count anywhere, also spelt with common look-alike digits
    ("v4xel") or split by separators ("anna.svensson"). Short words ("tre", a name like "Bo",
    the "AB" of a company) are too common inside ordinary words — "tre" is in "street",
    "extreme" and the Swedish numeral — so they only count when the password's letters are that
    word alone, perhaps repeated, with digits or symbols around it: "Tre2024!Tre2024!" yes,
    "tre små grisar byggde hus" no. zxcvbn still sees them as user inputs and scores them down.
    "pbx" is short but found in no ordinary word, so it counts anywhere.
    """
    if len(key) < SHORT_WORD_LENGTH and key not in DISTINCT_SHORT_WORDS:
        letters = _NOT_LETTER.sub("", folded)
        unit = _NOT_LETTER.sub("", key)
        return bool(unit) and bool(letters) and letters == unit * (len(letters) // len(unit))
    variants = {folded, folded.translate(_LEET_I), folded.translate(_LEET_L)}
    haystacks = variants | {_SEPARATOR.sub("", v) for v in variants}
    return any(key in haystack for haystack in haystacks)


def strength_score(password: str, user_inputs: list[str]) -> int:
    """zxcvbn's score 0–4 for the first STRENGTH_INPUT_CAP characters of the password."""
    sample = password[:STRENGTH_INPUT_CAP]
    with _ZXCVBN_LOCK:
        result = zxcvbn(sample, user_inputs=user_inputs, max_length=STRENGTH_INPUT_CAP)
    return int(result["score"])
