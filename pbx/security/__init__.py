"""Pure security primitives for accounts and login (issue 4, SECURITY.md items 1–11).

No database, no Flask and no clock of their own: time comes in as an argument and storage is
the caller's. Import the modules directly (nothing is re-exported here, so importing one
primitive does not load zxcvbn or argon2):

- `passwords`: the password policy, `validate_password(password, context)`.
- `hashing`: Argon2id `hash_password`, `verify_password`, `needs_rehash`, hash profiles.
- `totp`: `Totp` (secrets, provisioning URI, QR SVG, replay-safe `verify`).
- `recovery_codes`: ten single-use codes, stored as salted SHA-256.
- `secretbox`: `SecretBox`, AES-GCM encryption of TOTP secrets at rest.
- `throttle`: `LoginThrottle`, per-account back-off and lock.
- `tokens`: single-use reset/setup link tokens, stored as SHA-256.
"""
