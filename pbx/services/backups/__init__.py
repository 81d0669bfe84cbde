"""Backups, restores and restore drills.

Unlike the other services, which work in the caller's session and never commit, the
whole-database use cases own their transactions: creating (`manage`), verifying
(`verify`), restoring into an empty database (`restore_whole`) and drilling (`drill`) take
an engine or a database URL, open their own sessions (a read-only snapshot, a scratch
database) and commit what they write themselves. Only the restore into the live
switchboard (`restore`) and the drill results (`drill_results`) work in a session they are
given.
"""
