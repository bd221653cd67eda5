"""The incremental cache: probe results kept in ``.aoinspect_cache/`` and reused while nothing
they depend on has changed, as pytest's, mypy's and ruff's caches are.

A cached run is the child's own result lines, so that it goes through the same parsers as a
fresh one (a corrupt or doctored entry is a protocol error, never a result). It is reused only
while all of these are as they were when it was measured:

- the interpreter (its path, and the size and mtime of the file it resolves to), the working
  directory (``python -c`` puts it first on ``sys.path``) and the environment, but for variables
  that change from one shell to the next and no package reads (``VOLATILE_VARIABLES``);
- the child's ``sys.path``: every entry's directory and the ``.pth`` files in it. A directory
  whose mtime changed is compared by the names in it that imports can see (``IMPORT_SUFFIXES``
  and subdirectories): a module added that could shadow another counts, a report written into the
  working directory does not;
- every file behind a module the probe loaded (start-up modules, the import, the access and
  what the probe looked at afterwards): size and mtime, and a content hash where the mtime is
  not to be trusted (within ``MTIME_SLACK`` seconds of the time it was recorded, or later);
  and the directory holding each, so that a new module next to one is seen.

One file per package and environment holds every entry; it is written to a temporary file and
renamed over the old one, so that a concurrent run reads either the old file or the new one.
Anything unreadable, truncated, foreign or stale is ignored and rewritten, never fatal.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from aoinspect.probing.wire import ProbeRequest, ProbeRun

CACHE_DIR_NAME = ".aoinspect_cache"
FORMAT = "aoinspect-cache"
VERSION = 3  # 3: a probe that sees warnings as a bare interpreter does (2 measured without them)
# An mtime this close to the moment it was recorded may not change when the file does (coarse
# timestamps, a write in the same tick): such files are compared by content.
MTIME_SLACK = 2.0
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
every file the measured imports read are unchanged. Safe to delete at any time;
`aoinspect --no-cache` ignores it and `--cache-dir` moves it.
"""


def find_cache_dir(start: str) -> str:
    """``.aoinspect_cache`` beside the nearest pyproject.toml upwards from ``start``, else in it."""
    from aoinspect.config import find_pyproject

    pyproject = find_pyproject(start)
    return os.path.join(os.path.dirname(pyproject) if pyproject else os.path.abspath(start), CACHE_DIR_NAME)


def _environment_key(python: str) -> str:
    """What, outside the files, decides what a child imports: hashed."""
    try:
        # The directory decides the environment (a venv's bin/python and bin/python3 are one).
        real = os.path.realpath(python)
        status = os.stat(real)
        interpreter = [os.path.dirname(os.path.abspath(python)), real, status.st_size, status.st_mtime_ns]
    except OSError:
        interpreter = [python, None, None, None]
    environment = sorted((key, value) for key, value in os.environ.items()
                         if key not in VOLATILE_VARIABLES and not key.startswith("AOINSPECT_"))
    text = json.dumps([interpreter, os.getcwd(), environment])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _file_state(path: str, now: float) -> list[Any] | None:
    """``[size, mtime_ns, content hash or None]`` of a file, None if it is missing."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    digest = None
    if status.st_mtime_ns / 1e9 > now - MTIME_SLACK:
        digest = _digest(path)
    return [status.st_size, status.st_mtime_ns, digest]


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as stream:
            return hashlib.sha256(stream.read()).hexdigest()
    except OSError:
        return None


# What in a directory can change what an import finds there: subdirectories (packages,
# namespace packages, ``.dist-info``), modules of every kind, ``.pth`` files and archives that a
# ``.pth`` may put on ``sys.path``. A report written into the working directory is none of these.
IMPORT_SUFFIXES = (".py", ".pyc", ".pyw", ".pyd", ".so", ".pth", ".zip", ".egg", ".egg-link", ".whl")


def _dir_mtime(path: str) -> int | None:
    try:
        return os.stat(path or ".").st_mtime_ns
    except OSError:
        return None


def _dir_state(path: str) -> list[Any] | None:
    """``[mtime_ns, listing digest]`` of a directory, None if it is missing."""
    mtime = _dir_mtime(path)
    return None if mtime is None else [mtime, _listing_digest(path)]


def _listing_digest(path: str) -> str | None:
    """A digest of the names in ``path`` that imports can see (``IMPORT_SUFFIXES``, directories)."""
    names = []
    try:
        with os.scandir(path or ".") as entries:
            for entry in entries:
                try:
                    if entry.name.endswith(IMPORT_SUFFIXES) or entry.is_dir():
                        names.append(entry.name)
                except OSError:
                    names.append(entry.name)
    except OSError:
        return None
    text = "\0".join(sorted(names))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


class _Validator:
    """Checks recorded file and directory states against the disk, each path once per run."""

    def __init__(self) -> None:
        self._files: dict[str, bool] = {}
        self._dirs: dict[str, bool] = {}
        self.paths: dict[str, bool] = {}  # a file and its directory, both

    def file_ok(self, path: str, recorded: Any) -> bool:
        known = self._files.get(path)
        if known is None:
            known = self._files[path] = self._check_file(path, recorded)
        return known

    @staticmethod
    def _check_file(path: str, recorded: Any) -> bool:
        if recorded is None:
            return not os.path.exists(path)
        size, mtime, digest = recorded
        try:
            status = os.stat(path)
        except OSError:
            return False
        if status.st_size != size:
            return False
        if digest is not None:
            return bool(_digest(path) == digest)
        return bool(status.st_mtime_ns == mtime)

    def confirmed_file(self, path: str) -> bool:
        return self._files.get(path) is True

    def confirmed_dir(self, path: str) -> bool:
        return self._dirs.get(path) is True

    def dir_ok(self, path: str, recorded: Any) -> bool:
        known = self._dirs.get(path)
        if known is None:
            known = self._dirs[path] = self._check_dir(path, recorded)
        return known

    @staticmethod
    def _check_dir(path: str, recorded: Any) -> bool:
        """Unchanged, or changed only in what no import can see (a report written beside it)."""
        if recorded is None:
            return not os.path.isdir(path or ".")
        mtime, digest = recorded
        try:
            if os.stat(path or ".").st_mtime_ns == mtime:
                return True
        except OSError:
            return False
        return digest is not None and _listing_digest(path) == digest


def _pth_files(directory: str) -> list[str]:
    try:
        return sorted(os.path.join(directory, name) for name in os.listdir(directory or ".") if name.endswith(".pth"))
    except OSError:
        return []


class ProbeCache:
    """Cached probe runs of one package, for one interpreter and environment."""

    def __init__(self, directory: str, python: str, package: str) -> None:
        self.directory = directory
        self.package = package
        self.environment = _environment_key(python)
        self.path = os.path.join(directory, f"v{VERSION}", package, self.environment[:32] + ".json")
        self._lock = threading.Lock()
        self._entries: dict[str, Any] | None = None  # request key -> entry, once read
        self._imports: list[Any] = []  # the import and server lines entries share
        self._files: dict[str, Any] = {}
        self._dirs: dict[str, Any] = {}
        self._dirty = False
        self._import_index: dict[int, int] = {}  # id(ImportSection) -> its index in _imports
        self._parsed_imports: dict[int, tuple[Any, str | None]] = {}
        self.hits = 0

    # --- reading --------------------------------------------------------------------------------

    def _load(self) -> None:
        if self._entries is not None:
            return
        self._entries = {}
        try:
            with open(self.path, encoding="utf-8") as stream:
                document = json.load(stream)
            if not (isinstance(document, dict) and document.get("format") == FORMAT
                    and document.get("version") == VERSION and document.get("environment") == self.environment):
                return
            imports, files, dirs, entries = (document["imports"], document["files"], document["dirs"],
                                             document["entries"])
            if not (isinstance(imports, list) and isinstance(files, dict) and isinstance(dirs, dict)
                    and isinstance(entries, dict)):
                return
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return  # missing, truncated or foreign: start afresh, and rewrite it
        validator = _Validator()
        try:
            fresh_imports = [self._import_valid(shared, files, dirs, validator) for shared in imports]
            for key, entry in entries.items():
                if fresh_imports[entry["import"]] and self._entry_valid(entry, files, dirs, validator):
                    self._entries[key] = entry
        except (KeyError, TypeError, ValueError, IndexError):
            self._entries = {}
            return
        # Carry over only the states just confirmed: a stale one would hide the next change.
        self._imports = imports
        self._files = {path: state for path, state in files.items() if validator.confirmed_file(path)}
        self._dirs = {path: state for path, state in dirs.items() if validator.confirmed_dir(path)}

    def _paths_valid(self, paths: Iterable[str], files: Mapping[str, Any], dirs: Mapping[str, Any],
                     validator: _Validator) -> bool:
        checked = validator.paths  # most paths recur in every entry: each is judged once
        for path in paths:
            valid = checked.get(path)
            if valid is None:
                directory = os.path.dirname(path)
                valid = checked[path] = (validator.file_ok(path, files[path])
                                         and validator.dir_ok(directory, dirs[directory]))
            if not valid:
                return False
        return True

    def _import_valid(self, shared: Any, files: Mapping[str, Any], dirs: Mapping[str, Any],
                      validator: _Validator) -> bool:
        for entry in shared["sys_path"]:
            if not validator.dir_ok(entry, dirs[entry]):
                return False
        return self._paths_valid(shared["paths"], files, dirs, validator)

    def _entry_valid(self, entry: Any, files: Mapping[str, Any], dirs: Mapping[str, Any],
                     validator: _Validator) -> bool:
        return self._paths_valid(entry["paths"], files, dirs, validator)

    def has(self, fields: Sequence[str]) -> bool:
        """Whether a valid entry for the request with these fields is cached."""
        with self._lock:
            self._load()
            assert self._entries is not None
            return json.dumps(list(fields)) in self._entries

    def get(self, request: ProbeRequest, timeout: float) -> ProbeRun | None:
        """The cached run of ``request``, if it is still valid."""
        from aoinspect.probing import wire

        with self._lock:
            self._load()
            assert self._entries is not None
            entry = self._entries.get(_request_key(request))
            if entry is None:
                return None
            shared = self._parsed_imports.get(entry["import"])
            if shared is None:
                # Parsed once: every entry of a fork server shares one import section.
                shared = self._parsed_imports[entry["import"]] = wire.parse_all(self._imports[entry["import"]]["lines"])
        if shared[1] is not None:
            return None
        run = wire.make_run(request, entry["lines"], 0, False, timeout, "", shared=shared[0])
        if run.protocol_error is not None or not run.completed:
            return None
        self.hits += 1
        return wire.replace_from_cache(run)

    # --- writing -------------------------------------------------------------------------------

    def put(self, runs: Sequence[ProbeRun]) -> None:
        """Keep every run that went to its end, with the state of what it depended on."""
        from aoinspect.probing import wire

        with contextlib.suppress(OSError):
            # Before any directory is recorded: creating it changes its parent's mtime.
            _prepare(self.directory)
        now = time.time()
        with self._lock:
            self._load()
            assert self._entries is not None
            import_index = self._import_index
            for run in runs:
                if not run.completed or run.protocol_error or run.retried_after or run.from_cache or not run.raw:
                    continue
                imported = run.get(wire.ImportSection)
                if imported is None or not imported.ok:
                    continue
                # The files behind each module are kept once, as dependencies, not in every line.
                lines = [{key: value for key, value in line.items() if key != "files"} for line in run.raw]
                shared_lines = [line for line in lines if line.get("section") in _SHARED_SECTIONS]
                own_lines = [line for line in lines if line.get("section") not in _SHARED_SECTIONS]
                index = import_index.get(id(imported))
                if index is None:
                    paths = self._record_files(imported.files.values(), now)
                    for entry in imported.sys_path:
                        self._dirs[entry] = _dir_state(entry)
                        paths.extend(self._record_files(_pth_files(entry), now))
                    self._imports.append({"lines": shared_lines, "sys_path": list(imported.sys_path),
                                          "paths": sorted(set(paths))})
                    index = import_index[id(imported)] = len(self._imports) - 1
                files: list[str | None] = []
                for section in run.sections:
                    if isinstance(section, (wire.ResolveSection, wire.DoneSection)):
                        files.extend(section.files.values())
                self._entries[_request_key(run.request)] = {
                    "import": index, "lines": own_lines, "paths": sorted(set(self._record_files(files, now))),
                }
                self._dirty = True

    def _record_files(self, paths: Iterable[str | None], now: float) -> list[str]:
        recorded = []
        for path in paths:
            if not path:
                continue
            if path not in self._files:
                self._files[path] = _file_state(path, now)
                directory = os.path.dirname(path)
                if directory not in self._dirs:
                    self._dirs[directory] = _dir_state(directory)
            recorded.append(path)
        return recorded

    def flush(self) -> None:
        """Write what changed; a cache that cannot be written is no reason to fail."""
        with self._lock:
            if not self._dirty or self._entries is None:
                return
            self._dirty = False
            used = sorted({entry["import"] for entry in self._entries.values()})
            renumber = {old: new for new, old in enumerate(used)}
            document = {
                "format": FORMAT, "version": VERSION, "environment": self.environment, "package": self.package,
                "python": sys.version.split()[0],
                "imports": [self._imports[old] for old in used],
                "files": self._files, "dirs": self._dirs,
                "entries": {key: {**entry, "import": renumber[entry["import"]]}
                            for key, entry in self._entries.items()},
            }
        with contextlib.suppress(OSError):
            _prepare(self.directory)
            _write_atomically(self.path, document)


_SHARED_SECTIONS = ("import", "server")


class DistributionsCache:
    """Which distribution installs which top-level name in this interpreter's environment, kept
    while the directories of its ``sys.path`` (where installing or removing a distribution adds
    or removes a ``.dist-info``) and the interpreter itself are unchanged."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        state = [_environment_key(sys.executable), [(entry, _dir_mtime(entry)) for entry in sys.path if entry]]
        self.key = hashlib.sha256(json.dumps(state).encode("utf-8", "surrogatepass")).hexdigest()
        self.path = os.path.join(directory, f"v{VERSION}", "distributions", self.key[:32] + ".json")

    def read(self) -> dict[str, tuple[str, str | None]] | None:
        try:
            with open(self.path, encoding="utf-8") as stream:
                document = json.load(stream)
            if document.get("format") != FORMAT or document.get("key") != self.key:
                return None
            return {str(top): (str(pair[0]), pair[1] if isinstance(pair[1], str) else None)
                    for top, pair in document["distributions"].items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError):
            return None

    def write(self, distributions: Mapping[str, tuple[str, str | None]]) -> None:
        document = {"format": FORMAT, "version": VERSION, "key": self.key, "distributions": distributions}
        with contextlib.suppress(OSError):
            _prepare(self.directory)
            _write_atomically(self.path, document)


def _write_atomically(path: str, document: Any) -> None:
    target_dir = os.path.dirname(path)
    os.makedirs(target_dir, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=target_dir)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, separators=(",", ":"))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def _request_key(request: ProbeRequest) -> str:
    return json.dumps(request.fields())


def _prepare(directory: str) -> None:
    """Create the cache directory with its ``.gitignore`` (everything) and README."""
    os.makedirs(directory, exist_ok=True)
    for name, text in ((".gitignore", "# created by aoinspect\n*\n"), ("README.md", README)):
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            with open(path, "w", encoding="utf-8") as stream:
                stream.write(text)
