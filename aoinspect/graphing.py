"""The executed-import graph: record it in one child (``record_graph``), and answer what-if
questions about it without running anything again (``saved_if_deferred``, ``kept_loaded_by``).

The graph's edges go from a request's owner (the module whose import body was running when the
request was made; ``None`` for the entry itself) to the modules the request needs: its target
and the submodules its ``from`` names, and each of those needs its parent packages. Hits are
edges as much as misses: they are what keeps a module loaded when another import of it is
deferred. A module is loaded when it is reachable from the entry; a module that appeared in
``sys.modules`` by other means is loaded with the module (or the request) that made it appear.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from typing import TYPE_CHECKING

from aoinspect.child import protocol
from aoinspect.errors import InvalidSetting, ProbeFailed
from aoinspect.models.graph import ImportGraph
from aoinspect.probing import runner, wire

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from aoinspect.models.graph import ImportRequest

GRAPH_FILE = os.path.join(runner.CHILD_DIR, "graph.py")
# Loads graph.py as a module object of its own (builtins of its own, never in sys.modules) and
# hands over; ``graph.run`` empties ``__main__`` before the entry runs in it, as ``python -c``'s.
GRAPH_BOOTSTRAP = (
    'import sys; m = type(sys)("aoinspect_child_graph"); m.__file__ = sys.argv[1];'
    ' m.__builtins__ = dict(vars(sys.modules["builtins"]));'
    ' exec(sys.modules["_frozen_importlib_external"].SourceFileLoader("-", sys.argv[1]).get_code("-")'
    ' or compile(open(sys.argv[1], "rb").read(), sys.argv[1], "exec"), m.__dict__); m.main(sys.argv[2:])\n'
)
DEFAULT_TIMEOUT = 60.0
STOP_MARGIN = 2.0  # seconds between the child's own stop and the parent's kill
# The kinds of entry the child runs (as ``python`` takes them).
ENTRY_COMMAND, ENTRY_MODULE, ENTRY_SCRIPT = "command", "module", "script"


def graph_command(python: str, result_path: str, kind: str, target: str, arguments: Sequence[str] = (),
                  interpreter_options: Sequence[str] = (), stop_after: float = 0.0) -> list[str]:
    return [python, *interpreter_options, "-c", GRAPH_BOOTSTRAP, GRAPH_FILE, result_path, format(stop_after, "g"),
            kind, target, *arguments]


def stop_after(timeout: float) -> float:
    """When the child reports what it has and ends, before the parent's deadline kills it: a
    program still running then (a server) still gives the graph of its start-up."""
    return max(timeout - min(STOP_MARGIN, timeout / 5), timeout / 2)


def _program_entry(program: Sequence[str]) -> tuple[str, str, tuple[str, ...]]:
    """``(kind, target, arguments)`` of PROGRAM as ``python`` takes it after its options."""
    first = program[0]
    for flag, kind in (("-c", ENTRY_COMMAND), ("-m", ENTRY_MODULE)):
        if first == flag:
            if len(program) < 2:
                raise InvalidSetting(f"{flag} needs {'CODE' if flag == '-c' else 'a module name'}.")
            return kind, program[1], tuple(program[2:])
        if first.startswith(flag):
            return kind, first[2:], tuple(program[1:])
    return ENTRY_SCRIPT, os.path.abspath(first), tuple(program[1:])


def record_graph(
    package: str, *, entry: str | None = None, program: Sequence[str] | None = None, python: str | None = None,
    timeout: float = DEFAULT_TIMEOUT, interpreter_options: Sequence[str] = (), cwd: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ImportGraph:
    """Run one child that executes ``import PACKAGE`` (or ``entry``, code run as ``python -c``
    runs it, or ``program``: ``script.py ARGS``, ``-m module ARGS`` or ``-c CODE ARGS``) with
    every import request recorded, and return the graph. ``interpreter_options`` go before the
    entry (``-X dev``). The child's output goes nowhere. An entry still running a little before
    ``timeout`` seconds is stopped and reports what it did so far (ending ``timeout``); a child
    that cannot is killed at ``timeout`` (``ProbeFailed``), with whatever it started. ``cwd`` and
    ``env``: the child's (default: ours)."""
    if entry is not None and program is not None:
        raise InvalidSetting("give an entry or a program, not both.")
    if program is not None:
        if not program:
            raise InvalidSetting("the program is empty.")
        kind, target, arguments = _program_entry(program)
        shown = " ".join(program)
    else:
        kind, target, arguments = ENTRY_COMMAND, entry if entry is not None else f"import {package}", ()
        shown = target
    interpreter = python or sys.executable
    workdir = runner.make_workdir("aoinspect-graph-")
    try:
        result_path = os.path.join(workdir, "graph.jsonl")
        log_path = os.path.join(workdir, "output.log")
        token = runner.write_token(result_path)
        command = graph_command(interpreter, result_path, kind, target, arguments, interpreter_options,
                                stop_after(timeout))
        returncode, timed_out = runner.run_logged(command, timeout, log_path, cwd=cwd, env=env)
        raws, problem = runner.read_result(result_path)
        output = runner.tail(log_path)
    finally:
        runner.remove_workdir(workdir)
    raws, forged = wire.genuine(raws, token)
    found = [raw for raw in raws if raw.get(protocol.SECTION_KEY) == protocol.SECTION_GRAPH]
    if timed_out and not found:
        raise ProbeFailed(f"the graph of {shown} was not recorded within {timeout:g} s: the child was killed.")
    if not found:
        why = problem or forged or (f"it exited with status {returncode}" if returncode else "it reported nothing")
        detail = f"; its output ended with:\n{output.rstrip()}" if output.strip() else ""
        raise ProbeFailed(f"the graph of {shown} could not be recorded: {why}{detail}")
    try:
        section = wire.parse(found[-1])
    except wire.ProtocolError as exc:
        raise ProbeFailed(f"the graph of {shown} could not be read: {exc}") from None
    assert isinstance(section, wire.GraphSection)
    return ImportGraph(
        package=package, python=section.python, entry=shown, baseline=section.baseline, requests=section.requests,
        modules=section.modules, ending=section.ending, error=section.error, elapsed_ns=section.elapsed_ns,
        cwd=os.path.abspath(cwd) if cwd is not None else os.getcwd(),
    )


# --- reachability ---------------------------------------------------------------------------------


class _Reach:
    """The modules reachable from the entry when the requests in ``skipped`` are not made, and
    for each, the request through which the breadth-first walk first reached it."""

    def __init__(self, graph: ImportGraph, skipped: frozenset[int] = frozenset()) -> None:
        by_owner: dict[str | None, list[ImportRequest]] = {}
        for request in graph.requests:
            by_owner.setdefault(request.owner, []).append(request)
        appearing: dict[str | None, list[str]] = {}  # owner -> modules that appeared by other means
        with_request: dict[int, list[str]] = {}  # request -> modules that appeared while it ran
        for module in graph.modules:
            if module.by_other_means:
                if module.loaded_by is not None:
                    with_request.setdefault(module.loaded_by, []).append(module.name)
                else:
                    appearing.setdefault(module.owner, []).append(module.name)
        baseline = frozenset(graph.baseline)
        self.via: dict[str, ImportRequest | None] = {}
        queue: deque[str | None] = deque([None])
        seen_owners: set[str | None] = {None}

        def reach(name: str, request: ImportRequest | None) -> None:
            # A module needs its parent packages: reaching a.b.c reaches a.b and a.
            parts = name.split(".")
            for depth in range(len(parts), 0, -1):
                prefix = ".".join(parts[:depth])
                if prefix in self.via or prefix in baseline:
                    continue
                self.via[prefix] = request
                if prefix not in seen_owners:
                    seen_owners.add(prefix)
                    queue.append(prefix)

        while queue:
            owner = queue.popleft()
            for request in by_owner.get(owner, ()):
                if request.index in skipped:
                    continue
                for name in (*request.targets, *request.loaded, *with_request.get(request.index, ())):
                    reach(name, request)
            for name in appearing.get(owner, ()):
                reach(name, self.via.get(owner) if owner is not None else None)
        self.loaded = frozenset(self.via)


def reachable(graph: ImportGraph, skipped: Iterable[int] = ()) -> frozenset[str]:
    """The modules of ``graph`` still loaded when the requests ``skipped`` are not made."""
    return _Reach(graph, frozenset(skipped)).loaded & graph.module_names


def saved_if_deferred(graph: ImportGraph, request_indices: Iterable[int]) -> frozenset[str]:
    """The modules no longer loaded at import when the requests ``request_indices`` are not made
    then (deferred): reachability from the entry without those edges. Empty when something else
    keeps their targets loaded (see ``kept_loaded_by``)."""
    return reachable(graph) - reachable(graph, request_indices)


def kept_loaded_by(graph: ImportGraph, request_index: int, *, deferred: Iterable[int] = ()) -> tuple[
        ImportRequest, ...]:
    """The chain of requests, from the entry's outwards, that keeps request ``request_index``'s
    target loaded when that request is deferred: ``a.py:12 -> b.py:3`` as requests. Empty when
    nothing does (deferring it saves its target), or when the target was loaded before the entry
    ran (the interpreter's start-up keeps it). ``deferred``: other requests not made either (the
    rest of the statement's, ``requests_at``)."""
    request = graph.requests[request_index]
    reach = _Reach(graph, frozenset({request_index, *deferred}))
    # What the request is there to load: the submodules it names, else its target.
    wanted = request.submodules or (request.target,)
    if any(name not in reach.loaded for name in wanted):
        return ()
    chain: list[ImportRequest] = []
    name: str | None = wanted[0]
    seen: set[int] = set()
    while name is not None:
        step = reach.via.get(name)
        if step is None or step.index in seen:
            break
        seen.add(step.index)
        chain.append(step)
        name = step.owner
    return tuple(reversed(chain))


def requests_at(graph: ImportGraph, file: str, line: int) -> tuple[ImportRequest, ...]:
    """Every request made from ``file:line``: one statement may make several (``from . import a, b``
    under a replaced ``__import__`` asks for the package, then each submodule)."""
    return tuple(request for request in graph.requests if request.file == file and request.line == line)


def chain_text(chain: Sequence[ImportRequest]) -> str:
    """``a.py:12 → b.py:3``: where each request of a chain was made."""
    return " → ".join(request.location for request in chain)
