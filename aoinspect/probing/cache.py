"""The incremental cache: probe results kept in ``.aoinspect_cache/`` and reused while nothing
they depend on has changed, as pytest's, mypy's and ruff's caches are; but never wrong, and
never trusted unless this machine's aoinspect wrote it.

A cached run is the child's own result lines, so that it goes through the same parsers as a
fresh one. It is reused only while all of these are as they were when it was measured:

- the interpreter, identified by what it is (``interpreter_identity``): the real executable
  (its path, size and mtime) and the ``pyvenv.cfg`` beside it; an interpreter that is a
  script (a pyenv shim) is asked which executable and version it runs. Also the working
  directory (``python -c`` puts it first on ``sys.path``) and the environment, but for variables
  that change from one shell to the next and no package reads (``VOLATILE_VARIABLES``);
- the child's ``sys.path``: every entry's directory and the ``.pth`` files in it, and the
  directories the interpreter would add if they existed (the user site-packages). A directory
  whose mtime changed is compared by the names in it that imports can see (``IMPORT_SUFFIXES``
  and packages): a module added that could shadow another counts, a report written into the
  working directory does not;
- every file the probe read: the files behind the modules it loaded (start-up modules, the
  import, the access and what it looked at afterwards) and every other file it opened for
  reading (a stub read by a lazy loader, ``entry_points.txt``, a data file), with the directory
  holding each: size, mtime and ctime (which no tool sets back), and a content hash compared
  when the timestamps moved but the file may be the same (a fresh checkout, a restored cache).

A file whose ctime is not earlier than the moment the first probe started (``start_boundary``,
on the clock files are stamped with) may have changed while a probe read it; so may a directory
holding an import-visible name stamped so. Such a result is not kept (an entry saying why is kept
instead), and the next run measures it again.

Every cache file is authenticated with HMAC-SHA256 under a secret kept outside the project
(``cache_key``): a cache shipped in a repository, or edited by hand, is ignored and rewritten,
so a warm run trusts what it reads without re-validating entries it does not report. Cache files
are read only if they are regular files below ``DOCUMENT_LIMIT`` bytes, opened without blocking
and without following symlinks; a default ``.aoinspect_cache`` that is a symlink is not used.
Anything unreadable, malformed, foreign or stale is ignored and rewritten, never fatal; and each
run that could not use a result says why (``ProbeCache.miss``).

A warm ``check`` reads none of that: its whole rendered report is kept in a small file of its own
(``ReportMemo``, the report index) with the states of exactly what it was made from, and printed
while those are unchanged.

One file per package and environment holds every entry; it is written to a temporary file and
renamed over the old one, so that a concurrent run reads either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import stat
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Mapping, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from aoinspect.probing.wire import ProbeRequest, ProbeRun

if TYPE_CHECKING:
    # Runs a helper child: (command, timeout) -> (exit status or None, stdout, timed out).
    RunHelper = Callable[[list[str], float], tuple[int | None, bytes, bool]]

ResultT = TypeVar("ResultT")

CACHE_DIR_NAME = ".aoinspect_cache"
FORMAT = "aoinspect-cache"
# 6: predicted results kept compactly, their files' states in one table the document shares;
# 5: PEP 810 shims' proxies seen (a name bound to one is lazy; its access uses it); 4: signed files,
# every file read tracked; 3: a probe that sees warnings as a bare interpreter does
VERSION = 6
# The secret that authenticates cache files: this variable (a CI secret, so that a cache restored
# between CI runs is still used), else a key file created in the user's cache directory.
KEY_VARIABLE = "AOINSPECT_CACHE_KEY"
KEY_FILE_LIMIT = 4096
# Larger cache files are not read (a symlink to /dev/zero, a planted giant file).
DOCUMENT_LIMIT = 256 * 1024 * 1024
# The key under which a cache file's text, written after its JSON line, is read back (a kept report).
TEXT_KEY = "text"
# Files up to this size are hashed when recorded, so that one whose timestamps moved but whose
# content did not (a fresh checkout, a restored CI cache) still validates; larger ones (shared
# libraries) are compared by size and timestamps only.
DIGEST_LIMIT = 2 * 1024 * 1024
# Files with whole-second timestamps (FAT, some network filesystems) may have changed up to
# this long before their timestamp says.
COARSE_SLACK_NS = 2_000_000_000
# Set by shells, terminals and CI runners, different in every session, run or step, and never
# read by a package to decide what to import. Every other variable is part of the key: a package
# may read any of them.
VOLATILE_VARIABLES = frozenset({
    "_", "OLDPWD", "PWD", "SHLVL", "COLUMNS", "LINES", "TERM_SESSION_ID", "WINDOWID", "SSH_CLIENT",
    "SSH_CONNECTION", "SSH_TTY", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_TTY", "PS1", "PS2", "PROMPT_COMMAND",
    "HISTFILE", "HISTSIZE", "TMUX", "TMUX_PANE", "STY", "LS_COLORS", "MAIL", "XDG_SESSION_ID", "XDG_VTNR",
    "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER", "COLORTERM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION",
    "INVOCATION_ID", "JOURNAL_STREAM",
    # GitHub Actions: the run, the step and the files a step writes to.
    "GITHUB_RUN_ID", "GITHUB_RUN_NUMBER", "GITHUB_RUN_ATTEMPT", "GITHUB_SHA", "GITHUB_REF", "GITHUB_REF_NAME",
    "GITHUB_HEAD_REF", "GITHUB_BASE_REF", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_JOB", "GITHUB_ACTION",
    "GITHUB_ACTION_REF", "GITHUB_ACTION_REPOSITORY", "GITHUB_ACTION_PATH", "GITHUB_ACTOR", "GITHUB_ACTOR_ID",
    "GITHUB_TRIGGERING_ACTOR", "GITHUB_WORKFLOW", "GITHUB_WORKFLOW_REF", "GITHUB_WORKFLOW_SHA", "GITHUB_OUTPUT",
    "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE", "GITHUB_STEP_SUMMARY", "RUNNER_TRACKING_ID",
    "ACTIONS_RUNTIME_TOKEN", "ACTIONS_RESULTS_URL", "ACTIONS_CACHE_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    # GitLab CI.
    "CI_JOB_ID", "CI_JOB_URL", "CI_JOB_TOKEN", "CI_PIPELINE_ID", "CI_PIPELINE_IID", "CI_PIPELINE_URL",
    "CI_COMMIT_SHA", "CI_COMMIT_SHORT_SHA", "CI_COMMIT_BEFORE_SHA", "CI_CONCURRENT_ID", "CI_CONCURRENT_PROJECT_ID",
})
README = """\
# aoinspect cache

Measurements made by `aoinspect`, reused while the interpreter, the environment, sys.path and
every file the measured imports read are unchanged. Each file is authenticated with a key kept
outside the project (`~/.cache/aoinspect/key`, or `AOINSPECT_CACHE_KEY`): a copy made by anyone
else is ignored. Safe to delete at any time; `aoinspect --no-cache` ignores it and `--cache-dir`
moves it.
"""

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


# Linux stamps files with its coarse real-time clock (up to a tick behind the real time) or, for
# a ctime someone looked at, the real time.
_CLOCK_REALTIME_COARSE = 5
# Elsewhere: how far a file's timestamp may lag the real time of its change, at most.
TICK_NS = 20_000_000


def start_boundary() -> int:
    """A time on the clock files are stamped with, taken before a probe starts: every file
    changed before this call has an earlier ctime, every file changed after it returns a later
    or equal one. On Linux, the coarse clock once it has passed the real time of the call (it
    lags by a tick or so: a few milliseconds, waited for only when something is measured);
    elsewhere now less TICK_NS, so that a file changed just before may count as changed."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            target = time.time_ns()
            for _attempt in range(200):
                current = time.clock_gettime_ns(_CLOCK_REALTIME_COARSE)
                if current > target:
                    return current
                time.sleep(0.001)
    return time.time_ns() - TICK_NS


def find_cache_dir(start: str) -> str:
    """``.aoinspect_cache`` beside the nearest pyproject.toml upwards from ``start``, else in it."""
    from aoinspect.config import find_pyproject

    pyproject = find_pyproject(start)
    return os.path.join(os.path.dirname(pyproject) if pyproject else os.path.abspath(start), CACHE_DIR_NAME)


# --- the key --------------------------------------------------------------------------------------


def key_file_path() -> str:
    """``$XDG_CACHE_HOME/aoinspect/key``, else ``~/.cache/aoinspect/key``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aoinspect", "key")


def cache_key() -> tuple[bytes | None, str | None]:
    """The secret that authenticates cache files, or None and why there is none: the
    ``AOINSPECT_CACHE_KEY`` variable, else the key file, created (0600) on first use."""
    variable = os.environ.get(KEY_VARIABLE)
    if variable:
        return variable.encode("utf-8", "surrogateescape"), None
    path = key_file_path()
    text = _read_bounded(path, KEY_FILE_LIMIT, follow=True)
    if text is None and not os.path.lexists(path):
        try:
            _create_key(path)
        except OSError as exc:
            return None, f"there is no cache key and {path} cannot be created ({exc.strerror or exc})"
        text = _read_bounded(path, KEY_FILE_LIMIT, follow=True)
    if text is not None and len(text.strip()) >= 32:
        return text.strip(), None
    return None, f"the cache key {path} is not a readable key file of at least 32 characters"


def _create_key(path: str) -> None:
    """A new random key at ``path``, mode 0600, appearing whole (written aside, then linked in),
    unless a concurrent run's appeared first."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.{os.urandom(4).hex()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as stream:
            stream.write(os.urandom(32).hex() + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another run's key: use it
        except OSError:
            if not os.path.lexists(path):  # a filesystem without hard links
                os.replace(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            os.remove(temporary)


def _mac(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


# --- reading and writing cache files, safely ------------------------------------------------------


def _read_bounded(path: str, limit: int, follow: bool = False) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes: opened without
    blocking (a FIFO) and, unless ``follow``, without following a symlink (one to /dev/zero)."""
    flags = os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC | _O_BINARY | (0 if follow else _O_NOFOLLOW)
    try:
        descriptor = os.open(path, flags)
    except (OSError, ValueError):
        return None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode) or status.st_size > limit:
            return None
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        return None if len(data) > limit else data
    except OSError:
        return None
    finally:
        os.close(descriptor)


def _read_document(path: str, key: bytes) -> tuple[Any, str | None]:
    """The authenticated JSON document at ``path``, or None and why it cannot be used; the text
    written after it (``_write_document``) is its ``"text"``."""
    body, problem = _read_signed(path, key)
    if body is None:
        return None, problem
    head, newline, text = body.partition(b"\n")  # compact JSON holds no line break of its own
    try:
        document = json.loads(head)
        if newline:
            if not isinstance(document, dict):
                raise ValueError
            document[TEXT_KEY] = text.decode("utf-8", "surrogatepass")
    except (ValueError, RecursionError):
        return None, "the cache file is malformed: ignored and rewritten"
    return document, None


def _read_signed(path: str, key: bytes) -> tuple[bytes | None, str | None]:
    """The authenticated body of the cache file at ``path``, or None and why it cannot be used."""
    if not os.path.lexists(path):
        return None, "missing"
    data = _read_bounded(path, DOCUMENT_LIMIT)
    if data is None:
        return None, "the cache file is not a regular file of a sane size: ignored and rewritten"
    header, _newline, body = data.partition(b"\n")
    parts = header.split(b" ")
    if len(parts) != 3 or parts[0] != FORMAT.encode() or parts[1] != str(VERSION).encode():
        return None, "the cache file is not one this version of aoinspect wrote: ignored and rewritten"
    if not hmac.compare_digest(parts[2], _mac(key, body).encode()):
        return None, ("the cache file was not written by aoinspect with this machine's key (a cache shipped "
                      "with the project, edited, or made under another key): ignored and rewritten")
    return body, None


def _write_document(path: str, key: bytes, document: Any, text: str | None = None) -> None:
    """Write ``document`` with its MAC to a temporary file beside ``path`` and rename it over;
    ``text`` after it, as it is (a report of many megabytes is not escaped into JSON and parsed
    back), read back as the document's ``"text"``."""
    body = json.dumps(document, separators=(",", ":")).encode("utf-8", "surrogatepass")
    if text is not None:
        body = b"\n".join([body, text.encode("utf-8", "surrogatepass")])
    _write_signed(path, key, body)


def _write_signed(path: str, key: bytes, body: bytes) -> None:
    """Write ``body`` under its MAC to a temporary file beside ``path`` and rename it over."""
    header = f"{FORMAT} {VERSION} {_mac(key, body)}\n".encode()
    temporary = os.path.join(os.path.dirname(path), f".tmp-{os.urandom(8).hex()}.json")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY,
                         0o600)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(header)
            stream.write(body)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def _private_dir(root: str, *parts: str) -> str:
    """``root/parts...``, created as needed, every part a real directory (no symlink planted in
    a shipped cache leads a write elsewhere). Raises OSError otherwise."""
    path = root
    for part in parts:
        path = os.path.join(path, part)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o755)
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise OSError(f"{path} is not a directory")
    return path


def refuse_directory(directory: str) -> str | None:
    """Why the cache directory ``directory`` is not used, or None. A default
    ``.aoinspect_cache`` that is a symlink (one shipped by a repository, pointing out of the
    project) is not followed; an explicit ``--cache-dir`` is resolved by the CLI first."""
    try:
        status = os.lstat(directory)
    except OSError:
        return None  # created on first write
    if stat.S_ISLNK(status.st_mode):
        return f"the cache directory {directory} is a symbolic link, which aoinspect does not follow " \
               "(--cache-dir may name any directory)"
    if not stat.S_ISDIR(status.st_mode):
        return f"the cache directory {directory} is not a directory"
    return None


# --- what a result depends on ---------------------------------------------------------------------


def interpreter_identity(python: str, run_helper: RunHelper | None = None) -> dict[str, Any]:
    """The interpreter ``python`` runs, by what it is rather than by the file named: the real
    executable with its size and mtime, and the ``pyvenv.cfg`` that makes it a venv's. A script
    (a pyenv shim, whose target depends on ``.python-version``) is asked, through ``run_helper``
    (``runner.run_bounded``), which executable and version it runs; one that cannot be asked
    gets an identity no other run shares. A binary is not run, so a warm run starts no process."""
    if os.sep not in python and (os.altsep is None or os.altsep not in python):
        import shutil

        python = shutil.which(python) or python  # `--python python`: the shim PATH finds first
    named = os.path.abspath(python)
    identity: dict[str, Any] = {"named": os.path.dirname(named)}
    real = os.path.realpath(named)
    if real == os.path.realpath(sys.executable):
        identity["version"] = sys.version.split()[0]
    elif _is_script(real):
        identity.update(_ask_interpreter(python, run_helper))
        real = identity.get("executable") or real
    identity["executable"] = real
    try:
        # Not the ctime: a CI runner that installs the same Python afresh keeps its cache.
        status = os.stat(real)
        identity["stat"] = [status.st_size, status.st_mtime_ns]
    except OSError:
        identity["stat"] = None
    # A venv is its bin/ directory's parent; pyvenv.cfg decides its site-packages. By content:
    # a venv created afresh in every CI run is the same venv.
    for directory in (os.path.dirname(named), os.path.dirname(os.path.dirname(named))):
        config = os.path.join(directory, "pyvenv.cfg")
        if os.path.lexists(config):
            identity["pyvenv"] = [config, _digest(config)]
            break
    return identity


def _is_script(path: str) -> bool:
    """Whether ``path`` is a ``#!`` script (a shim), read without blocking."""
    try:
        descriptor = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC | _O_BINARY)
    except (OSError, ValueError):
        return False
    try:
        return stat.S_ISREG(os.fstat(descriptor).st_mode) and os.read(descriptor, 2) == b"#!"
    except OSError:
        return False
    finally:
        os.close(descriptor)


def _ask_interpreter(python: str, run_helper: RunHelper | None) -> dict[str, Any]:
    unknown = {"unknown": os.urandom(8).hex()}  # never the same twice: measured, never served
    if run_helper is None:
        return unknown
    command = [python, "-c", "import sys; print(sys.executable); print(sys.version.split()[0]); print(sys.prefix)"]
    try:
        returncode, output, _timed_out = run_helper(command, 30.0)
    except OSError:
        return unknown
    lines = output.decode("utf-8", "replace").splitlines()
    if returncode != 0 or len(lines) < 3:
        return unknown
    return {"executable": os.path.realpath(lines[0]) if lines[0] else None, "version": lines[1],
            "prefix": lines[2]}


def _key_parts(python: str, key: bytes, run_helper: RunHelper | None) -> dict[str, Any]:
    """What, outside the files, decides what a child imports: the interpreter, the working
    directory and the environment (each variable's value under the key, never in clear)."""
    variables = {
        name: _mac(key, value.encode("utf-8", "surrogateescape"))[:16]
        for name, value in sorted(os.environ.items())
        if name not in VOLATILE_VARIABLES and not name.startswith("AOINSPECT_")
    }
    return {"interpreter": interpreter_identity(python, run_helper), "cwd": os.getcwd(), "variables": variables}


def _hash_parts(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8", "surrogatepass")).hexdigest()


def _parts_changed(old: Any, new: Mapping[str, Any]) -> str:
    """Which key part differs between a cache file of another environment and this run's."""
    try:
        if old["interpreter"] != new["interpreter"]:
            before, after = old["interpreter"], new["interpreter"]

            def name(identity: Mapping[str, Any]) -> str:
                version = identity.get("version")
                return f"{identity.get('executable')}" + (f" {version}" if version else "")

            if name(before) != name(after):
                return f"the interpreter changed ({name(before)} -> {name(after)})"
            return f"the interpreter changed ({name(after)} was replaced or its venv reconfigured)"
        if old["cwd"] != new["cwd"]:
            return f"the working directory changed ({old['cwd']} -> {new['cwd']})"
        before, after = old["variables"], new["variables"]
        for variable in sorted(set(before) | set(after)):
            if variable not in before:
                return f"the environment variable {variable} was set"
            if variable not in after:
                return f"the environment variable {variable} was unset"
            if before[variable] != after[variable]:
                return f"the environment variable {variable} changed"
    except (KeyError, TypeError, AttributeError):
        pass
    return "the interpreter or the environment changed"


def _file_state(path: str) -> list[Any] | None:
    """``[size, mtime_ns, ctime_ns, content hash or None]`` of a file, None if it is missing."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    digest = None
    if stat.S_ISREG(status.st_mode) and status.st_size <= DIGEST_LIMIT:
        digest = _digest(path)
    return [status.st_size, status.st_mtime_ns, status.st_ctime_ns, digest]


def _digest(path: str) -> str | None:
    data = _read_bounded(path, DIGEST_LIMIT, follow=True)
    return None if data is None else hashlib.sha256(data).hexdigest()


def _changed_since(state: list[Any] | None, started_ns: int) -> bool:
    """Whether the file may have changed after ``started_ns`` (``start_boundary``): its ctime
    (which every change, and every reset of the mtime, moves) is not earlier."""
    if state is None:
        return False
    changed = max(state[1], state[2])
    if changed % 1_000_000_000 == 0:  # whole-second timestamps
        return bool(changed >= started_ns - COARSE_SLACK_NS)
    return bool(changed >= started_ns)


# What in a directory can change what an import finds there: packages, namespace packages and
# distribution metadata, modules of every kind, ``.pth`` files and archives that a ``.pth`` may
# put on ``sys.path``. A report written into the working directory is none of these, nor the
# ``__pycache__`` a first run writes, nor this cache.
IMPORT_SUFFIXES = (".py", ".pyc", ".pyw", ".pyd", ".so", ".pth", ".zip", ".egg", ".egg-link", ".whl")
METADATA_SUFFIXES = (".dist-info", ".egg-info", ".egg")


def _dir_mtime(path: str) -> int | None:
    try:
        return os.stat(path or ".").st_mtime_ns
    except (OSError, ValueError):
        return None


def _dir_state(path: str) -> list[Any] | None:
    """``[mtime_ns, listing digest]`` of a directory, None if it is missing."""
    mtime = _dir_mtime(path)
    return None if mtime is None or not os.path.isdir(path or ".") else [mtime, _listing_digest(path)]


def _listing_digest(path: str) -> str | None:
    """A digest of the names in ``path`` that imports can see (``IMPORT_SUFFIXES``, packages)."""
    names = []
    try:
        with os.scandir(path or ".") as entries:
            for entry in entries:
                name = entry.name
                if name.endswith(IMPORT_SUFFIXES):
                    names.append(name)
                    continue
                if name == "__pycache__" or not (name.isidentifier() or name.endswith(METADATA_SUFFIXES)):
                    continue
                try:
                    if entry.is_dir():
                        names.append(name)
                except OSError:
                    names.append(name)
    except (OSError, ValueError):
        return None
    text = "\0".join(sorted(names))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _shown(path: str) -> str:
    """A path for a one-line message: as it is if printable, else quoted with escapes."""
    return path if path.isprintable() else repr(path)


def _added_since(directory: str, state: list[Any] | None, started_ns: int, cache: str | None = None) -> str | None:
    """A name an import can see that appeared in ``directory`` after ``started_ns`` (its ctime
    is not earlier), which a probe may or may not have seen; looked for only in a directory
    that changed since (a first run's ``__pycache__`` is not such a name, nor the ``cache``
    directory this run made: ``--cache-dir cache`` in the working directory)."""
    if state is None or not _changed_since([0, state[0], state[0]], started_ns):
        return None
    try:
        with os.scandir(directory or ".") as entries:
            for entry in entries:
                name = entry.name
                with contextlib.suppress(OSError):
                    if cache is not None and os.path.abspath(entry.path) == cache:
                        continue
                    if not (name.endswith(IMPORT_SUFFIXES) or (
                            (name.isidentifier() or name.endswith(METADATA_SUFFIXES)) and name != "__pycache__"
                            and entry.is_dir())):
                        continue
                    status = entry.stat(follow_symlinks=False)
                    if _changed_since([0, status.st_mtime_ns, status.st_ctime_ns], started_ns):
                        return os.path.join(directory, name)
    except (OSError, ValueError):
        return None
    return None


class _Seen:
    """The states of files and directories as one run's keeping of results read them: each is
    read once however many results depend on it. A file changed after it was read is then kept
    with the state read before (a later result that read it changed is recorded against the old
    state, which the next run finds changed: it measures again), and one changed after the first
    probe started is found so for every result, as when read again."""

    def __init__(self, cache: str | None = None) -> None:
        self.cache = None if cache is None else os.path.abspath(cache)  # the cache directory: not the package's
        self._files: dict[str, list[Any] | None] = {}
        self._dirs: dict[str, list[Any] | None] = {}
        self._added: dict[tuple[str, int], str | None] = {}
        self._placed: dict[str, tuple[int, list[Any] | None, bool, str]] = {}

    def placed(self, path: str, started_ns: int) -> tuple[int, list[Any] | None, bool, str]:
        """``started_ns``, the file's state, whether it changed since then, and its directory."""
        placed = self._placed.get(path)
        if placed is None or placed[0] != started_ns:
            state = self.file(path)
            placed = self._placed[path] = (started_ns, state, _changed_since(state, started_ns), os.path.dirname(path))
        return placed

    def file(self, path: str) -> list[Any] | None:
        if path not in self._files:
            self._files[path] = _file_state(path)
        return self._files[path]

    def directory(self, path: str) -> list[Any] | None:
        if path not in self._dirs:
            self._dirs[path] = _dir_state(path)
        return self._dirs[path]

    def added(self, directory: str, state: list[Any] | None, started_ns: int) -> str | None:
        key = (directory, started_ns)
        if key not in self._added:
            self._added[key] = _added_since(directory, state, started_ns, self.cache)
        return self._added[key]


def _file_problem(path: str, recorded: Any) -> str | None:
    """Why the file no longer matches its recorded state, or None. ``DIR/.``: a directory the
    package listed (its state is the directory's own, which any change to the listing moves;
    a directory has no content digest)."""
    if recorded is None:
        return f"{_shown(path)} appeared" if os.path.lexists(path) else None
    size, mtime, ctime, digest = recorded
    listed = (path[:-2] or "/") if path.endswith("/.") else None
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return f"{_shown(path if listed is None else listed)} was removed"
    if status.st_size == size and status.st_mtime_ns == mtime and status.st_ctime_ns == ctime:
        return None
    if status.st_size == size and digest is not None and _digest(path) == digest:
        return None  # touched, checked out again or restored, but the same
    if listed is not None:
        return f"the listing of {_shown(listed)}, which the package read, changed"
    return f"{_shown(path)} changed"


def _dir_problem(path: str, recorded: Any) -> str | None:
    """Why the directory no longer matches, or None: unchanged, or changed only in what no
    import can see (a report written beside it)."""
    if recorded is None:
        return f"the directory {_shown(path)} appeared" if os.path.isdir(path or ".") else None
    mtime, digest = recorded
    current = _dir_mtime(path)
    if current is None:
        return f"the directory {_shown(path)} was removed"
    if current == mtime or (digest is not None and _listing_digest(path) == digest):
        return None
    return f"a module was added to or removed from {_shown(path or os.getcwd())}"


class _Validator:
    """Checks recorded states against the disk, each (path, state) once per run."""

    def __init__(self) -> None:
        self._checked: dict[tuple[bool, str, Any], str | None] = {}
        # The same, by the state's identity (kept alive here): the entries of one document share
        # their states (``_unshared``), read once per file a run (``_Seen``).
        self._by_identity: dict[tuple[bool, str, int], tuple[Any, str | None]] = {}
        self._groups: dict[tuple[int, int], tuple[Any, Any, str | None]] = {}

    def problem(self, files: Mapping[str, Any], dirs: Mapping[str, Any]) -> str | None:
        # Entries that share their recorded states (one object: _unshared) are checked once.
        known = self._groups.get((id(files), id(dirs)))
        if known is None:
            known = self._groups[(id(files), id(dirs))] = (files, dirs, self._problem(files, dirs))
        return known[2]

    def _problem(self, files: Mapping[str, Any], dirs: Mapping[str, Any]) -> str | None:
        checked, by_identity = self._checked, self._by_identity
        for is_file, states in ((False, dirs), (True, files)):
            for path, state in states.items():
                known = by_identity.get((is_file, path, id(state)))
                if known is None:
                    memo = (is_file, path, tuple(state) if type(state) is list else state)
                    if memo not in checked:
                        checked[memo] = _file_problem(path, state) if is_file else _dir_problem(path, state)
                    known = by_identity[(is_file, path, id(state))] = (state, checked[memo])
                if known[1] is not None:
                    return known[1]
        return None


def _pth_files(directory: str) -> list[str]:
    try:
        return sorted(os.path.join(directory, name) for name in os.listdir(directory or ".") if name.endswith(".pth"))
    except (OSError, ValueError):
        return []


def _raw_reads(run: ProbeRun, section: str) -> list[str] | None:
    """What the child reported it read (``reads``) in its ``section`` lines; None if it could
    not keep count (too many)."""
    reads: list[str] = []
    for line in run.raw:
        if line.get("section") != section:
            continue
        value = line.get("reads", [])
        if value is None:
            return None
        if isinstance(value, list):
            reads.extend(item for item in value if isinstance(item, str))
    return reads


def _raw_search(run: ProbeRun) -> list[str]:
    for line in run.raw:
        if line.get("section") == "import":
            value = line.get("search", [])
            if isinstance(value, list):
                return [item for item in value if isinstance(item, str)]
    return []


def _is_import(shared: Any) -> bool:
    return (isinstance(shared, dict) and isinstance(shared.get("lines"), list)
            and isinstance(shared.get("files"), dict) and isinstance(shared.get("dirs"), dict))


def _is_entry(entry: Any, imports: int) -> bool:
    if not isinstance(entry, dict):
        return False
    if "discarded" in entry:
        return isinstance(entry["discarded"], str)
    index = entry.get("import")
    return (type(index) is int and 0 <= index < imports
            and (isinstance(entry.get("lines"), list) or isinstance(entry.get("predicted"), dict))
            and isinstance(entry.get("files"), dict) and isinstance(entry.get("dirs"), dict))


_UNCACHEABLE = -1  # an import whose results cannot be kept (import_index)
_SHARED_SECTIONS = ("import", "server")
# Lines keep what the parsers read; what the cache keeps apart (files, reads) is dropped.
_DROPPED_KEYS = ("files", "reads", "search", "token")


class ProbeCache:
    """Cached probe runs of one package, for one interpreter and environment. ``miss`` says why
    a run could not use a result (the first reason), for the report."""

    def __init__(self, directory: str, python: str, package: str, run_helper: RunHelper | None = None) -> None:
        """``run_helper``: how to run a helper child (``runner.run_bounded``), to ask an
        interpreter that is a script what it runs."""
        self.directory = directory
        self.package = package
        self.python = python
        self.hits = 0
        self.miss: str | None = None
        self.started_ns: int | None = None  # when the first probe started (start_boundary)
        self._lock = threading.Lock()
        self._entries: dict[str, Any] | None = None  # request key -> entry, once read
        self._imports: list[Any] = []  # the import and server lines entries share
        self._dirty = False
        self._import_index: dict[int, int] = {}  # id(ImportSection) -> its index in _imports
        self._import_problems: dict[int, str | None] = {}
        self._parsed_imports: dict[int, tuple[Any, str | None]] = {}
        self._validator = _Validator()
        self._seen = _Seen(directory)  # what this run's keeping of results read
        self._document_problem: str | None = None
        # Predicted results this process kept, as it holds them (get_predicted serves them as they
        # are rather than decoding what was written of them).
        self._held: dict[str, Any] = {}
        # The runs this process kept, by their entry's key: ``get`` serves a run's own sections
        # rather than parsing its lines again (the replay that keeps a cold check's warm report).
        self._held_runs: dict[str, ProbeRun] = {}
        # What the results this run was served depend on (``ReportMemo``), and how many results
        # it measured (or predicted) rather than read.
        self.served_files: dict[str, Any] = {}
        self.served_dirs: dict[str, Any] = {}
        # The recorded states already served (by identity, kept alive): the import every entry of a
        # fork server shares, a group of states predicted names share, is added once.
        self._served: dict[tuple[bool, int], Any] = {}
        self.measured = 0
        self.unkept = 0  # measured results not kept (read changed, uncacheable, incomplete)
        self.refused = refuse_directory(directory)
        self.key, key_problem = (None, None) if self.refused else cache_key()
        self.refused = self.refused or key_problem
        self.parts: dict[str, Any] = {}
        self.environment = ""
        self.path = ""
        if self.key is not None:
            self.parts = _key_parts(python, self.key, run_helper)
            self.environment = _hash_parts(self.parts)
            self.path = os.path.join(directory, f"v{VERSION}", package, self.environment[:32] + ".json")

    def served_afresh(self) -> None:
        """Count what is served and measured from now on only: a second pass over the same
        results (``ReportMemo``) reads them from this cache as a warm run would."""
        self.hits, self.miss, self.measured, self.unkept = 0, None, 0, 0
        self.served_files, self.served_dirs = {}, {}
        self._served = {}

    def mark_started(self, boundary: int | None = None) -> None:
        """A probe starts now, or started after ``boundary`` (``start_boundary``: an early
        probe); a file changed since the first may have been read changed."""
        started = start_boundary() if boundary is None else boundary
        self.started_ns = started if self.started_ns is None else min(self.started_ns, started)

    def _note_miss(self, reason: str) -> None:
        if self.miss is None:
            self.miss = reason

    # --- reading --------------------------------------------------------------------------------

    def _load(self) -> None:
        if self._entries is not None:
            return
        self._entries = {}
        if self.key is None:
            self._document_problem = self.refused
            return
        document, problem = _read_document(self.path, self.key)
        if document is None:
            self._document_problem = self._why_no_document() if problem == "missing" else problem
            return
        try:
            if not (isinstance(document, dict) and document.get("environment") == self.environment
                    and document.get("package") == self.package
                    and isinstance(document["imports"], list) and isinstance(document["entries"], dict)
                    and all(_is_import(shared) for shared in document["imports"])):
                raise TypeError
        except (KeyError, TypeError):
            self._document_problem = "the cache file is malformed: ignored and rewritten"
            return
        # Authenticated: written by this machine's aoinspect, so its shape is checked (cheaply,
        # in case of a bug) but its states are not: each entry's dependencies are checked when
        # it is asked for, and only then.
        self._imports = document["imports"]
        count = len(self._imports)
        entries = _unshared(document["entries"], document)
        self._entries = {key: entry for key, entry in entries.items() if _is_entry(entry, count)}
        self._dirty = len(self._entries) != len(document["entries"])

    def _why_no_document(self) -> str:
        """No cache file for this environment: which key part changed since the newest cache
        file of this package, if there is one."""
        assert self.key is not None
        folder = os.path.dirname(self.path)
        newest: tuple[int, str] | None = None
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".json") and not entry.name.startswith(".tmp-"):
                    with contextlib.suppress(OSError):
                        mtime = entry.stat(follow_symlinks=False).st_mtime_ns
                        if newest is None or mtime > newest[0]:
                            newest = (mtime, entry.path)
        if newest is None:
            return "nothing was cached yet for this package"
        other, problem = _read_document(newest[1], self.key)
        if not isinstance(other, dict):
            # Not ours (another key, shipped): that, rather than what else differs, is the news.
            return problem or "nothing was cached yet for this interpreter and environment"
        return _parts_changed(other.get("parts"), self.parts)

    def _entry_problem(self, entry: Any) -> str | None:
        if not isinstance(entry, dict):
            return "the cache entry is malformed"
        if "discarded" in entry:
            return f"{entry['discarded']} (last run)"
        index = entry["import"]
        if index not in self._import_problems:
            shared = self._imports[index]
            self._import_problems[index] = self._validator.problem(shared["files"], shared["dirs"])
        return self._import_problems[index] or self._validator.problem(entry["files"], entry["dirs"])

    def _valid_entry(self, key: str) -> Any:
        """The entry for ``key`` if every file and directory it depends on is as recorded;
        otherwise None, with the reason noted and the entry dropped."""
        assert self._entries is not None
        entry = self._entries.get(key)
        if entry is None:
            self._note_miss(self._document_problem or "not measured before")
            return None
        try:
            problem = self._entry_problem(entry)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            problem = "the cache entry is malformed"
        if problem is not None:
            self._note_miss(problem)
            del self._entries[key]
            self._dirty = True
            return None
        if "import" in entry:
            shared = self._imports[entry["import"]]
            served = self._served
            for files, dirs in ((shared["files"], shared["dirs"]), (entry["files"], entry["dirs"])):
                if (False, id(files)) not in served:
                    served[(False, id(files))] = files
                    self.served_files.update(files)
                if (True, id(dirs)) not in served:
                    served[(True, id(dirs))] = dirs
                    self.served_dirs.update(dirs)
        return entry

    def holds_nothing(self) -> bool:
        """Whether no result of this package is cached for this interpreter and environment (no
        cache file: a cold run), asked before any is read."""
        return self.key is None or not os.path.exists(self.path)

    def has(self, fields: Sequence[str]) -> bool:
        """Whether a valid entry for the request with these fields is cached. Asking is no miss:
        a name never measured may be served otherwise (a kept prediction); one that is measured
        notes its miss when it is looked up to run (``get``)."""
        with self._lock:
            self._load()
            assert self._entries is not None
            key = json.dumps(list(fields))
            return key in self._entries and self._valid_entry(key) is not None

    def get(self, request: ProbeRequest, timeout: float) -> ProbeRun | None:
        """The cached run of ``request``, if it is still valid."""
        from aoinspect.probing import wire

        key = _request_key(request)
        with self._lock:
            self._load()
            entry = self._valid_entry(key)
            if entry is None:
                return None
            try:
                shared = self._parsed_imports.get(entry["import"])
                if shared is None:
                    # Parsed once: every entry of a fork server shares one import section.
                    shared = self._parsed_imports[entry["import"]] = wire.parse_all(
                        self._imports[entry["import"]]["lines"])
                run = None
                held = self._held_runs.get(key)
                if shared[1] is None and held is not None:
                    # As parsed from its lines: the shared sections, then its own (whose files,
                    # which the lines do not keep, no report shows).
                    run = wire.ProbeRun(request, (*shared[0], *(section for section in held.sections if not isinstance(
                        section, (wire.ImportSection, wire.ServerSection)))), 0, False, timeout, "")
                elif shared[1] is None:
                    run = wire.make_run(request, entry["lines"], 0, False, timeout, "", shared=shared[0])
            except Exception:  # noqa: BLE001 - an entry that does not parse is no result, never a crash
                run = None
            if run is None or run.protocol_error is not None or not run.completed:
                self._note_miss("the cache entry is malformed")
                assert self._entries is not None
                self._entries.pop(key, None)
                self._dirty = True
                return None
            self.hits += 1
        return wire.replace_from_cache(run)

    # --- writing -------------------------------------------------------------------------------

    def _states(self, files: Iterable[str | None], loaded: Iterable[str | None] = (),
                dirs: Iterable[str] = ()) -> tuple[dict[str, Any], dict[str, Any], str | None]:
        """The states of ``files`` (``loaded``: module files, which existed when read), of the
        directories holding them and of ``dirs``; and, if one of them changed after the probe
        started (a file, or a module added to a directory), which. Each is read once a run
        (``_Seen``): the results of one run read mostly the same files (a predicted name's are
        mostly every other name's, a fork's those of the import they share)."""
        seen = self._seen
        file_states: dict[str, Any] = {}
        dir_states: dict[str, Any] = {}
        changed = None
        started = time.time_ns() - TICK_NS if self.started_ns is None else self.started_ns
        must_exist = {path for path in loaded if path}
        for path in (*must_exist, *files):
            if not path or path in file_states:
                continue
            _started, state, moved, directory = seen.placed(path, started)
            file_states[path] = state
            if changed is None and (moved or (state is None and path in must_exist)):
                changed = f"{_shown(path)} changed while it was measured"
            if directory not in dir_states:
                dir_states[directory] = seen.directory(directory)
        for directory in dirs:
            if directory not in dir_states:
                dir_states[directory] = seen.directory(directory)
        for directory, state in dir_states.items():
            if changed is not None:
                break
            added = seen.added(directory, state, started)
            if added is not None:
                changed = f"{_shown(added)} was added while it was measured"
        return file_states, dir_states, changed

    def put(self, runs: Sequence[ProbeRun]) -> None:
        """Keep every run that went to its end, with the state of what it depended on; a run
        that read a file changed since it started is kept as the reason it was not."""
        from aoinspect.probing import wire

        if self.key is None:
            return
        with contextlib.suppress(OSError):
            # Before any directory is recorded: creating it changes its parent's mtime.
            _prepare(self.directory)
        with self._lock:
            self._load()
            assert self._entries is not None
            self.measured += len(runs)
            self.unkept += len(runs)
            for run in runs:
                if not run.completed or run.protocol_error or run.retried_after or run.from_cache or not run.raw:
                    continue
                imported = run.get(wire.ImportSection)
                if imported is None or not imported.ok:
                    continue
                lines = [{key: value for key, value in line.items() if key not in _DROPPED_KEYS} for line in run.raw]
                index = self._import_index.get(id(imported))
                if index is None:
                    index = self._import_index[id(imported)] = self._record_import(run, imported, lines)
                key = _request_key(run.request)
                self._dirty = True
                if index == _UNCACHEABLE:
                    self._entries[key] = {"discarded": self._import_problems[_UNCACHEABLE]}
                    continue
                files: list[str | None] = []
                for section in run.sections:
                    if isinstance(section, (wire.ResolveSection, wire.DoneSection)):
                        files.extend(section.files.values())
                reads = _raw_reads(run, "done")
                if reads is None:
                    self._entries[key] = {"discarded": "it opened too many files to track"}
                    continue
                file_states, dir_states, changed = self._states(reads, files)
                if changed is not None:
                    self._entries[key] = {"discarded": changed}
                    continue
                own_lines = [line for line in lines if line.get("section") not in _SHARED_SECTIONS]
                self._entries[key] = {"import": index, "lines": own_lines, "files": file_states, "dirs": dir_states}
                self._held_runs[key] = run
                self.unkept -= 1

    # --- predicted results (aoinspect.predicting) ------------------------------------------------

    def get_predicted(self, name: str, decode: Callable[[Any], ResultT | None]) -> ResultT | None:
        """The predicted result kept for ``name``, if every file its prediction read (the modules
        of its reach, its lazy path) is as recorded: the one this process kept, else ``decode``
        of its JSON object (None: not a result)."""
        with self._lock:
            self._load()
            key = _PREDICTED_PREFIX + name
            assert self._entries is not None
            if key not in self._entries:
                return None
            entry = self._valid_entry(key)
            if entry is None or not isinstance(entry.get("predicted"), dict):
                return None
            result = self._held.get(key)
            if result is None:
                result = decode(entry["predicted"])
                if result is None:
                    return None
            self.hits += 1
            return result

    def put_predicted(self, results: Mapping[str, tuple[Any, Iterable[str | None], Any]]) -> None:
        """Keep predicted results, ``name -> (JSON object or None: not kept, files its prediction
        read, the result itself)``, beside the import a measured result of this run recorded
        (nothing is kept without one); ``get_predicted`` serves this process the result itself.
        A JSON object's ``loads`` that names share (one object) is written once."""
        self.measured += len(results)
        if self.key is None or not results:
            return
        with self._lock:
            self._load()
            assert self._entries is not None
            index = next((entry["import"] for entry in self._entries.values()
                          if isinstance(entry, dict) and "import" in entry and entry["import"] in self._import_problems
                          and self._import_problems[entry["import"]] is None), None)
            if index is None:
                self.unkept += len(results)
                return
            # Names that read the same files share their states (one object, written once: _shared).
            states: dict[tuple[str | None, ...], tuple[dict[str, Any], dict[str, Any], str | None]] = {}
            for name, (predicted, files, result) in results.items():
                files = tuple(files)
                if files not in states:
                    states[files] = self._states(files)
                file_states, dir_states, changed = states[files]
                if changed is not None or predicted is None:
                    self.unkept += 1
                    continue
                key = _PREDICTED_PREFIX + name
                self._entries[key] = {"import": index, "predicted": predicted, "files": file_states,
                                      "dirs": dir_states}
                self._held[key] = result
                self._dirty = True

    def _record_import(self, run: ProbeRun, imported: Any, lines: list[dict[str, Any]]) -> int:
        reads = _raw_reads(run, "import")
        if reads is None:
            self._import_problems[_UNCACHEABLE] = "its import opened too many files to track"
            return _UNCACHEABLE
        files: list[str | None] = list(reads)
        for entry in imported.sys_path:
            files.extend(_pth_files(entry))
        file_states, dir_states, changed = self._states(files, imported.files.values(),
                                                        (*imported.sys_path, *_raw_search(run)))
        if changed is not None:
            self._import_problems[_UNCACHEABLE] = changed
            return _UNCACHEABLE
        shared_lines = [line for line in lines if line.get("section") in _SHARED_SECTIONS]
        self._imports.append({"lines": shared_lines, "files": file_states, "dirs": dir_states})
        index = len(self._imports) - 1
        self._import_problems[index] = None
        return index

    def flush(self) -> None:
        """Write what changed; a cache that cannot be written is no reason to fail."""
        with self._lock:
            if not self._dirty or self._entries is None or self.key is None:
                return
            self._dirty = False
            used = sorted({entry["import"] for entry in self._entries.values() if "discarded" not in entry})
            renumber = {old: new for new, old in enumerate(used)}
            entries, tables = _shared({
                key: (entry if "discarded" in entry else {**entry, "import": renumber[entry["import"]]})
                for key, entry in self._entries.items()})
            document = {
                "environment": self.environment, "package": self.package, "parts": self.parts,
                "imports": [self._imports[old] for old in used], "entries": entries, **tables,
            }
        with contextlib.suppress(OSError):
            _prepare(self.directory)
            _private_dir(self.directory, f"v{VERSION}", self.package)
            _write_document(self.path, self.key, document)
            _prune(os.path.dirname(self.path), ".json", ENVIRONMENTS_KEPT, keep=self.path)


class DistributionsCache:
    """Which distribution installs which top-level name in this interpreter's environment, kept
    while the directories of its ``sys.path`` (where installing or removing a distribution adds
    or removes a ``.dist-info``) and the interpreter itself are unchanged."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.key = None if refuse_directory(directory) else cache_key()[0]
        state = [interpreter_identity(sys.executable), os.getcwd(),
                 [(entry, _dir_mtime(entry)) for entry in sys.path if entry]]
        self.digest = hashlib.sha256(json.dumps(state).encode("utf-8", "surrogatepass")).hexdigest()
        self.path = os.path.join(directory, f"v{VERSION}", "distributions", self.digest[:32] + ".json")

    def read(self) -> dict[str, tuple[str, str | None]] | None:
        if self.key is None:
            return None
        document, _problem = _read_document(self.path, self.key)
        try:
            if document.get("key") != self.digest:
                return None
            return {str(top): (str(pair[0]), pair[1] if isinstance(pair[1], str) else None)
                    for top, pair in document["distributions"].items()}
        except (KeyError, TypeError, IndexError, AttributeError):
            return None

    def write(self, distributions: Mapping[str, tuple[str, str | None]]) -> None:
        if self.key is None:
            return
        document = {"key": self.digest, "distributions": distributions}
        with contextlib.suppress(OSError):
            _prepare(self.directory)
            _private_dir(self.directory, f"v{VERSION}", "distributions")
            _write_document(self.path, self.key, document)
            _prune(os.path.dirname(self.path), ".json", ENVIRONMENTS_KEPT, keep=self.path)


# Predicted results are kept under keys no request has (a request's key is a JSON list).
_PREDICTED_PREFIX = "predicted:"


def _shared(entries: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The entries as written, and the tables they share. A package's predicted names read
    mostly the same files and load the same modules (huggingface_hub's 493: 80,000 file states,
    about a thousand distinct, in a few dozen distinct sets; 100,000 loads in 40 sets): each
    ``[path, state]`` is written once in ``states``, each set of them once in ``groups`` (an
    entry's files and directories are indices into it), and the ``loads`` of predicted results
    that names share (one object) once in ``loads``."""
    states: list[list[Any]] = []
    groups: list[list[int]] = []
    loads: list[Any] = []
    state_index: dict[tuple[str, int], int] = {}  # (path, id(state)): states read in one run are shared
    group_index: dict[int, int] = {}  # id(recorded): the entries keep each alive meanwhile
    group_of_content: dict[tuple[int, ...], int] = {}
    loads_index: dict[int, int] = {}

    def group(recorded: dict[str, Any]) -> int:
        position = group_index.get(id(recorded))
        if position is None:
            found = []
            for path, state in recorded.items():
                index = state_index.get((path, id(state)))
                if index is None:
                    index = state_index[(path, id(state))] = len(states)
                    states.append([path, state])
                found.append(index)
            position = group_of_content.setdefault(tuple(found), len(groups))
            if position == len(groups):
                groups.append(found)
            group_index[id(recorded)] = position
        return position

    written = {}
    for key, entry in entries.items():
        if key.startswith(_PREDICTED_PREFIX) and "discarded" not in entry:
            predicted = entry["predicted"]
            shared = predicted.get("loads")
            if isinstance(shared, dict):
                position = loads_index.get(id(shared))
                if position is None:
                    position = loads_index[id(shared)] = len(loads)
                    loads.append(shared)
                predicted = {**predicted, "loads": position}
            entry = {**entry, "predicted": predicted, "files": group(entry["files"]), "dirs": group(entry["dirs"])}
        written[key] = entry
    return written, {"states": states, "groups": groups, "loads": loads}


def _unshared(entries: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The entries as ``_shared`` wrote them, with what they share again (each group of states
    and each set of loads one object, for every entry that refers to it); an entry whose indices
    do not fit the tables is left out."""
    states, groups, loads = document.get("states"), document.get("groups"), document.get("loads")
    if not (isinstance(states, list) and isinstance(groups, list) and isinstance(loads, list) and all(
            type(item) is list and len(item) == 2 and isinstance(item[0], str) for item in states)):
        states, groups, loads = [], [], []
    count = len(states)
    recorded: list[dict[str, Any] | None] = [
        {states[index][0]: states[index][1] for index in group}
        if type(group) is list and all(type(index) is int and 0 <= index < count for index in group) else None
        for group in groups]
    read = {}
    for key, entry in entries.items():
        if key.startswith(_PREDICTED_PREFIX) and isinstance(entry, dict) and "discarded" not in entry:
            try:
                files, dirs, predicted = entry["files"], entry["dirs"], entry["predicted"]
                shared = predicted["loads"]
                if not (type(files) is int and type(dirs) is int and type(shared) is int
                        and min(files, dirs, shared) >= 0 and recorded[files] is not None
                        and recorded[dirs] is not None):
                    continue
                entry = {**entry, "files": recorded[files], "dirs": recorded[dirs],
                         "predicted": {**predicted, "loads": loads[shared]}}
            except (KeyError, TypeError, IndexError):
                continue
        read[key] = entry
    return read


def _request_key(request: ProbeRequest) -> str:
    return json.dumps(request.fields())


def _prepare(directory: str) -> None:
    """Create the cache directory with its ``.gitignore`` (everything) and README; never
    through a symlink planted in its place."""
    if refuse_directory(directory):
        raise OSError(f"{directory} is not used")
    os.makedirs(directory, exist_ok=True)
    for name, text in ((".gitignore", "# created by aoinspect\n*\n"), ("README.md", README)):
        path = os.path.join(directory, name)
        if os.path.lexists(path):
            continue
        with contextlib.suppress(FileExistsError):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, 0o644)
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(text)


# --- the report index: a warm run's whole answer ---------------------------------------------------

# Files and directories the CLI itself reads while it makes a report (declarations read
# statically, a stub, a baseline), seen through these audit events.
_OPEN_EVENTS = frozenset({"open"})
_LISTING_EVENTS = frozenset({"os.listdir", "os.scandir"})
# What the CLI reads of the system, not of the package (the stray sweep's /proc): no report depends on it.
_PSEUDO_FILESYSTEMS = ("/proc", "/sys", "/dev")
REPORT_SUFFIX = ".report"
# A package keeps the reports of this many command lines (each option set, format, terminal width
# and environment is one), the most recently written: a warm run of any other measures as usual.
REPORTS_KEPT = 32
# A package keeps the result documents of this many environments (interpreter, working directory,
# variables), and the distribution index as many: the most recently written.
ENVIRONMENTS_KEPT = 8


def _prune(directory: str, suffix: str, kept: int, keep: str) -> None:
    """Remove the oldest files of ``directory`` named ``*suffix`` beyond the newest ``kept``, never
    ``keep`` (the file just written) nor a temporary file another run is writing."""
    try:
        with os.scandir(directory) as entries:
            found = [(entry.stat(follow_symlinks=False).st_mtime_ns, entry.path) for entry in entries
                     if entry.name.endswith(suffix) and not entry.name.startswith(".tmp-")
                     and entry.is_file(follow_symlinks=False)]
    except OSError:
        return
    found.sort(reverse=True)
    for _mtime, path in found[kept:]:
        if path != keep:
            with contextlib.suppress(OSError):
                os.unlink(path)


def source_fingerprint() -> str:
    """aoinspect's own sources, by name, size and mtime: a report rendered by other code (an
    upgrade, an edit in a checkout) is not served."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digest = hashlib.sha256()
    pending = [root]
    while pending:
        directory = pending.pop()
        with contextlib.suppress(OSError), os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda item: item.name):
                with contextlib.suppress(OSError):
                    if entry.name.endswith((".py", ".txt")):
                        status = entry.stat()
                        digest.update(f"{entry.path}\0{status.st_size}\0{status.st_mtime_ns}\0".encode(
                            "utf-8", "surrogateescape"))
                    elif entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                        pending.append(entry.path)
    return digest.hexdigest()


# The memos recording now (``ReportMemo.recording``), and whether this process's audit hook is in.
_RECORDERS: list[ReportMemo] = []
_RECORDERS_HOOKED: list[bool] = []
_UNRECORDED = threading.local()  # .on: this thread's reads are guesses no report depends on


@contextlib.contextmanager
def unrecorded() -> Iterator[None]:
    """What this thread reads meanwhile is not noted by the memos recording: a guess whose
    result is used only if what the report is made from confirms it (``engine._EarlyDeclarations``)."""
    _UNRECORDED.on = True
    try:
        yield
    finally:
        _UNRECORDED.on = False


def _audit(event: str, arguments: tuple[Any, ...]) -> None:
    if not _RECORDERS or not (event in _OPEN_EVENTS or event in _LISTING_EVENTS):
        return
    if getattr(_UNRECORDED, "on", False):
        return
    path = arguments[0] if arguments else None
    if isinstance(path, str):  # else a descriptor, opened by path first
        for recorder in _RECORDERS:
            recorder.note(event, path)


class ReportMemo:
    """The authenticated index a warm run reads instead of the document of every probe result:
    one command's rendered report (``request``: the command, its settled options, the format and
    the view options), kept beside the states of exactly what it was made from (the files and
    directories of the cache entries it was served, and what the CLI read itself). A warm run
    reads this one small file and checks those states; nothing it does not report is read or
    validated. Written only by a run every result of which came from the cache, so that what it
    holds is what such a run prints; served only to the same interpreter, environment and
    aoinspect sources."""

    def __init__(self, directory: str, package: str, request: Mapping[str, Any]) -> None:
        self.directory = directory
        self.package = package
        self.refused = refuse_directory(directory)
        self.key = None if self.refused else cache_key()[0]
        self.path = ""
        self._opened: dict[str, None] = {}
        self._listed: dict[str, None] = {}
        self._started: int | None = None
        if self.key is None:
            return
        parts = _key_parts(sys.executable, self.key, None)
        self.environment = _hash_parts(parts)
        self.request = _hash_parts({"request": request, "sources": source_fingerprint(), "package": package,
                                    "environment": self.environment})
        self.path = os.path.join(directory, f"v{VERSION}", package,
                                 f"{self.environment[:32]}-{self.request[:32]}{REPORT_SUFFIX}")

    def read(self) -> tuple[str, int] | None:
        """The report kept for this request and its exit code, if everything it was made from is
        as it was; else None (the command runs)."""
        if self.key is None:
            return None
        document, _problem = _read_document(self.path, self.key)
        try:
            if document.get("request") != self.request:
                return None
            output, exit_code = document[TEXT_KEY], document["exit_code"]
            files, dirs = document["files"], document["dirs"]
            if not (isinstance(output, str) and type(exit_code) is int and isinstance(files, dict)
                    and isinstance(dirs, dict)):
                return None
            if _Validator().problem(files, dirs) is not None:
                return None
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        return output, exit_code

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        """Note every file the CLI opens and every directory it lists meanwhile."""
        if self.key is None:
            yield
            return
        self._started = start_boundary()
        self._opened, self._listed = {}, {}
        _RECORDERS.append(self)
        if not _RECORDERS_HOOKED:
            # An audit hook cannot be removed: one per process, noting for whoever is recording.
            sys.addaudithook(_audit)
            _RECORDERS_HOOKED.append(True)
        try:
            yield
        finally:
            _RECORDERS.remove(self)

    def note(self, event: str, path: str) -> None:
        path = os.path.abspath(path or ".")
        if path.startswith(_PSEUDO_FILESYSTEMS) and (path + os.sep).split(os.sep, 2)[1] in ("proc", "sys", "dev"):
            return
        (self._opened if event in _OPEN_EVENTS else self._listed)[path] = None

    def write(self, output: str, exit_code: int, caches: Sequence[ProbeCache]) -> bool:
        """Keep ``output`` if every result of the run came from ``caches`` (none measured, none
        missed) and nothing it read changed while it ran; whether it was."""
        if self.key is None or not caches or any(
                cache.measured or cache.miss is not None or not cache.hits or cache.key is None for cache in caches):
            return False
        own = os.path.realpath(self.directory) + os.sep
        files: dict[str, Any] = {}
        dirs: dict[str, Any] = {}
        for cache in caches:
            files.update(cache.served_files)
            dirs.update(cache.served_dirs)
        started = self._started if self._started is not None else time.time_ns() - TICK_NS
        for path in self._opened:
            if path in files or os.path.realpath(path).startswith(own) or os.path.isdir(path):
                continue
            state = _file_state(path)
            if _changed_since(state, started):
                return False
            files[path] = state
            directory = os.path.dirname(path)
            if directory not in dirs:
                dirs[directory] = _dir_state(directory)
        for directory in self._listed:
            if directory not in dirs and not (os.path.realpath(directory) + os.sep).startswith(own):
                dirs[directory] = _dir_state(directory)
        document = {"request": self.request, "files": files, "dirs": dirs, "exit_code": exit_code}
        try:
            _prepare(self.directory)
            _private_dir(self.directory, f"v{VERSION}", self.package)
            _write_document(self.path, self.key, document, text=output)
        except OSError:
            return False
        _prune(os.path.dirname(self.path), REPORT_SUFFIX, REPORTS_KEPT, keep=self.path)
        return True
