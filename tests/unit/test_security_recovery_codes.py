"""SECURITY.md item 9: ten hashed single-use recovery codes."""

from __future__ import annotations

import math
import re

from pbx.security.recovery_codes import (
    ALPHABET,
    generate_recovery_codes,
    hash_recovery_code,
    hash_recovery_codes,
    match_recovery_code,
    normalise_recovery_code,
)


def test_ten_distinct_codes_of_at_least_50_bits() -> None:
    codes = generate_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
        raw = code.replace("-", "")
        assert set(raw) <= set(ALPHABET)
        assert len(raw) * math.log2(len(ALPHABET)) >= 50


def test_only_salted_hashes_are_stored() -> None:
    code = generate_recovery_codes(1)[0]
    first, second = hash_recovery_code(code), hash_recovery_code(code)
    assert first != second  # per-code salt
    assert code not in first and code.replace("-", "") not in first


def test_submitted_code_matches_its_stored_hash_once() -> None:
    codes = generate_recovery_codes()
    stored: list[str | None] = list(hash_recovery_codes(codes))
    index = match_recovery_code(codes[3], stored)
    assert index == 3
    stored[index] = None  # the caller marks it used (atomically)
    assert match_recovery_code(codes[3], stored) is None
    assert match_recovery_code(codes[4], stored) == 4


def test_case_dashes_and_spaces_do_not_matter() -> None:
    codes = generate_recovery_codes(2)
    stored = hash_recovery_codes(codes)
    typed = " " + codes[1].lower().replace("-", " ") + " "
    assert match_recovery_code(typed, stored) == 1
    assert match_recovery_code(codes[1].replace("-", ""), stored) == 1


def test_look_alike_letters_are_read_as_digits() -> None:
    stored = hash_recovery_codes(["0110-ABCD-EFGH"])
    assert match_recovery_code("oIlO-abcd-efgh", stored) == 0


def test_unknown_and_malformed_codes_do_not_match() -> None:
    codes = generate_recovery_codes()
    stored = hash_recovery_codes(codes)
    other = next(c for c in generate_recovery_codes(20) if c not in codes)
    assert match_recovery_code(other, stored) is None
    for junk in ["", "ABCD-EFGH", "ABCD-EFGH-JKMNP", "ABCD-EFGH-JKM!", "UUUU-UUUU-UUUU"]:
        assert normalise_recovery_code(junk) is None
        assert match_recovery_code(junk, stored) is None
    assert match_recovery_code(codes[0], ["garbage", "md5$00$00", stored[0]]) == 2
