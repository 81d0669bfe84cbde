"""Data shipped with pbx.security: common-passwords.txt (see scripts/make_blocklist.py)."""
