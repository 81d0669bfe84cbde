"""Cost of the pure authentication primitives (pbx.security), for the login budget of issue 4.

A login must cost no more than one Argon2 verification plus 20 ms. This prints the Argon2
figures for the production profile and what the other per-login primitives add (rehash check,
decrypting the TOTP secret, verifying the code, the throttle check), plus the password policy,
which runs on password set/change only (never at login).

Run: .venv/bin/python benchmarks/auth_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from pbx.security.hashing import PRODUCTION_PROFILE, hash_password, needs_rehash, verify_password
from pbx.security.passwords import PasswordContext, load_blocklist, validate_password
from pbx.security.secretbox import SecretBox
from pbx.security.throttle import LoginThrottle
from pbx.security.totp import Totp

CONTEXT = PasswordContext(
    user_name="Anna Svensson", email="anna.svensson@acmebygg.se", company_name="Acme Bygg AB"
)
SWEDISH = "Gröna äpplen dansar tyst bakom blå fyrar medan sju kloka ugglor räknar stjärnor"
POLICY_CASES = {
    "typical passphrase": "correct horse battery staple",
    "Swedish sentence": SWEDISH[:64],
    "random printable": "0x}\\}zE3KH>d:q8#Lm2@zR5!vT9$wK3&nY7*pH4^",
    "leet-heavy (zxcvbn's worst case)": ("4@1!3$0|7+5(2" * 10)[:128],
    "blocklisted word, padded": "password123456789!",
}


def median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def login_extras(stored: str, box: SecretBox, token: str) -> Callable[[], object]:
    """Everything a password+TOTP login does besides the Argon2 verification."""
    throttle = LoginThrottle()

    def run() -> object:
        now = datetime.now(UTC)
        throttle.may_attempt(3, now, now)
        needs_rehash(stored)
        secret = box.decrypt(token, "user:1")
        return Totp.verify(secret, Totp.code_at(secret, now), now, None)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat
    p = PRODUCTION_PROFILE
    print(
        f"Argon2id production profile: t={p.time_cost}, m={p.memory_cost_kib} KiB, "
        f"p={p.parallelism}; median of {repeat}"
    )
    password = "correct horse battery staple"
    stored = hash_password(password)
    print(f"  hash_password    {median_ms(lambda: hash_password(password), repeat):8.1f} ms")
    verify = median_ms(lambda: verify_password(stored, password), repeat)
    print(f"  verify_password  {verify:8.1f} ms")
    box = SecretBox("benchmark key")
    extras = login_extras(stored, box, box.encrypt(Totp.new_secret(), "user:1"))
    print(
        f"  login extras (throttle, needs_rehash, decrypt secret, TOTP verify) "
        f"{median_ms(extras, repeat * 20):6.3f} ms"
    )
    start = time.perf_counter()
    load_blocklist()
    print(
        f"Password policy; blocklist load (once per process) "
        f"{(time.perf_counter() - start) * 1000:.1f} ms"
    )
    for name, candidate in POLICY_CASES.items():
        ms = median_ms(partial(validate_password, candidate, CONTEXT), repeat)
        print(f"  {name + f' ({len(candidate)} chars)':40} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
