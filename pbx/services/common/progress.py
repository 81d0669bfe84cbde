"""Progress reporting for long operations, without tying services to a terminal.

A service asks its `Progress` factory for a counter (`with progress(label, total) as
advance:`) and calls `advance(n)` as work gets done; the CLI passes a factory that draws a
`click.progressbar`, everything else passes `no_progress`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

Advance = Callable[[int], None]
Progress = Callable[[str, int], AbstractContextManager[Advance]]


@contextmanager
def no_progress(label: str, total: int) -> Iterator[Advance]:
    yield lambda n: None
