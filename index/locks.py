"""Locks between processes that share a data directory: ``fcntl.flock`` on small files inside it.

The kernel releases a flock when the last descriptor of its open file is closed, which happens however
the holder ends (SIGKILL and OOM kills included), so a dead writer never blocks the next one and there
is no stale lock to clean up. The holder writes its pid into the file only so that a process waiting
for it can say whom it waits for. Each acquisition opens its own descriptor, so two threads of one
process exclude each other exactly as two processes do.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

Waiting = Callable[[int | None], None]
"""Called once, with the holder's pid when known, before blocking on a lock another process holds."""


class FileLock:
    """An exclusive/shared lock on ``path`` (created on first use, never deleted)."""

    def __init__(self, path: Path):
        self.path = path

    @contextmanager
    def exclusive(self, waiting: Waiting | None = None) -> Iterator[None]:
        with self._held(fcntl.LOCK_EX, waiting) as fd:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._held(fcntl.LOCK_SH, None):
            yield

    @contextmanager
    def _held(self, mode: int, waiting: Waiting | None) -> Iterator[int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                if waiting is not None:
                    waiting(_holder(fd))
                fcntl.flock(fd, mode)
            yield fd
        finally:
            os.close(fd)  # releases the lock


def _holder(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None
