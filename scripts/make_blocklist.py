#!/usr/bin/env python3
"""Regenerate pbx/security/data/common-passwords.txt from the zxcvbn package.

Source: the "passwords" frequency list of the `zxcvbn` Python package (MIT licence,
Copyright (c) 2016 Daniel Wolf; the lists come from Dropbox's zxcvbn, also MIT). The list
is ordered by frequency, all lower case, so the file is its first COUNT entries, one per line,
after a single comment line that records the provenance.

Usage: .venv/bin/python scripts/make_blocklist.py [--count N] [--output PATH]
"""

from __future__ import annotations

import argparse
from importlib.metadata import version
from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "pbx/security/data/common-passwords.txt"
MINIMUM_COUNT = 10_000  # SECURITY.md item 2: at least the top 10,000


def build_lines(count: int) -> list[str]:
    """The header line followed by the `count` most frequent passwords."""
    passwords = FREQUENCY_LISTS["passwords"][:count]
    if len(passwords) < MINIMUM_COUNT:
        raise SystemExit(f"only {len(passwords)} passwords; at least {MINIMUM_COUNT} needed")
    header = (
        f"# Top {len(passwords)} of the 'passwords' frequency list of the zxcvbn Python package "
        f"{version('zxcvbn')} (MIT licence, (c) 2016 Daniel Wolf, data from Dropbox's zxcvbn); "
        "regenerate with scripts/make_blocklist.py"
    )
    return [header, *passwords]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=len(FREQUENCY_LISTS["passwords"]))
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    lines = build_lines(args.count)
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines) - 1} passwords to {args.output}")


if __name__ == "__main__":
    main()
