"""Reading files aoinspect is handed (configuration, baselines, a package's sources) without
letting them hang or exhaust it: only regular files, opened without blocking, read up to a limit.

A FIFO or a device (``/dev/zero``) named where a file is expected would otherwise block forever
or fill memory.
"""

from __future__ import annotations

import os
import stat

# Generous for what each holds; a larger file is refused with a message, not read in part.
CONFIG_LIMIT = 4 * 1024 * 1024
BASELINE_LIMIT = 64 * 1024 * 1024
SOURCE_LIMIT = 16 * 1024 * 1024


class UnreadableFile(OSError):
    """A path that is not a regular file of bounded size; ``reason`` says why, for messages."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def read_regular_file(path: str, limit: int) -> bytes:
    """The bytes of ``path``, which must be a regular file (symlinks to one are fine) of at most
    ``limit`` bytes. Raises ``UnreadableFile`` (an ``OSError``) otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise UnreadableFile(path, exc.strerror or str(exc)) from exc
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(path, "not a regular file")
        if info.st_size > limit:
            raise UnreadableFile(path, f"larger than {limit} bytes")
        chunks = []
        size = 0
        while True:
            chunk = os.read(descriptor, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while we read it
                raise UnreadableFile(path, f"larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(descriptor)
