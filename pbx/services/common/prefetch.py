"""Read ahead in threads, in order, in bounded memory.

Blob reads and SHA-256 hashing release the GIL, so reading and checking a few blobs at a
time in threads lets a backup or a verify keep every core busy while the main thread writes
the manifest. At most `2 × workers` results are held at once, whatever the store's size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WORKERS = 4


def ordered_map(
    fn: Callable[[T], R], items: Iterable[T], workers: int = WORKERS
) -> Iterator[tuple[T, R]]:
    """(item, fn(item)) for each item, in order; `fn` runs `workers` at a time. An
    exception raised by `fn` is raised here, at its item's turn."""
    if workers <= 1:
        yield from ((item, fn(item)) for item in items)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending: deque[tuple[T, Future[R]]] = deque()
        for item in items:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) >= 2 * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
