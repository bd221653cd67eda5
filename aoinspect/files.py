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


def private_directory(prefix: str) -> str:
    """A new directory only this user can enter, as ``tempfile.mkdtemp(prefix=prefix)`` makes
    one, without importing tempfile (and with it shutil, random and three compression modules:
    a tenth of a start-up) where tempfile would plainly choose ``TMPDIR`` or ``/tmp``."""
    import sys

    chosen = sys.modules.get("tempfile")
    plain = (chosen is None or chosen.tempdir is None) and (
        os.environ.get("TMPDIR") or not (os.environ.get("TEMP") or os.environ.get("TMP")))
    base = os.environ.get("TMPDIR") or "/tmp"
    if plain and os.name == "posix" and os.path.isdir(base):
        for _attempt in range(8):  # a name taken already: another one, as tempfile tries
            path = os.path.join(os.path.abspath(base), prefix + os.urandom(6).hex())
            try:
                os.mkdir(path, 0o700)
                return path
            except FileExistsError:
                continue
            except OSError:
                break
    import tempfile

    return tempfile.mkdtemp(prefix=prefix)


def remove_directory(path: str) -> None:
    """Remove ``path`` and what it holds, ignoring errors, as ``shutil.rmtree(path,
    ignore_errors=True)``, without importing shutil where it holds only files."""
    try:
        with os.scandir(path) as entries:
            names = [entry.name for entry in entries if not entry.is_dir(follow_symlinks=False)]
        # A directory inside, or anything that could not be removed: shutil's careful walk.
        for name in names:
            os.unlink(os.path.join(path, name))
        os.rmdir(path)
        return
    except FileNotFoundError:
        if not os.path.lexists(path):
            return
    except OSError:
        pass
    import shutil

    shutil.rmtree(path, ignore_errors=True)
