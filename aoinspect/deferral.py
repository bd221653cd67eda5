"""Deferral simulated under PEP 810's semantics in a fresh child (``aoinspect/child/defer.py``):
what an entry (``import PACKAGE``, given code, or a program) loads when chosen import statements are
lazy, and where each lazy import is first reified. Runs on every interpreter the probe supports
(3.9+): the child rewrites the modules concerned as they load, so that any load of a lazily bound
name reifies it, as PEP 810 does on 3.15. Annotations follow the interpreter that runs the child
(evaluated at definition before 3.14, unless ``from __future__ import annotations``; lazily from
3.14, PEP 649): ``Deferral.python`` says which.

Several scenarios run in one child: each in a fork of an interpreter that has loaded nothing but
the child's own (hidden) code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence, Union

from aoinspect.errors import AoinspectError
from aoinspect.probing.runner import BOOTSTRAP, CHILD_DIR

if TYPE_CHECKING:
    from aoinspect.pep810 import ImportStatement

DEFER_FILE = os.path.join(CHILD_DIR, "defer.py")
DEFAULT_TIMEOUT = 120.0
# How scenarios are isolated from each other: forks of one child that has loaded nothing of the
# package, or a fresh child each.
FORK = "fork"
SPAWN = "spawn"
ISOLATIONS = (FORK, SPAWN)
STARTUP_ALLOWANCE = 10.0  # seconds for the child to start, beyond its scenarios' deadlines

StatementRef = Union["ImportStatement", tuple[str, int]]


class SimulationFailed(AoinspectError):
    """The simulation's child did not report."""


@dataclass(frozen=True)
class Reification:
    """The first time a deferred statement's lazy object was reified."""

    statement_file: str
    statement_line: int
    name: str  # the bound name that was loaded
    file: str | None  # where: the frame that loaded it
    line: int
    during_import: bool  # an import (a module body other than __main__'s) was running
    error: str | None  # "Type: message" when the reification raised (a circular import, a missing module)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Deferral:
    """What the entry loaded with the chosen statements lazy."""

    modules: frozenset[str]  # loaded while the entry ran, beyond a bare interpreter's start
    reified: tuple[Reification, ...]  # one per deferred statement that was reified, in statement order
    elapsed_ns: int  # the entry's run
    python: str = ""  # "3.12": the interpreter the result holds for
    error: str | None = None  # the entry raised: "Type: message" (or the run was incomplete: see there)
    deferred: tuple[tuple[str, int], ...] = ()  # (file, line) of the statements made lazy
    refused: tuple[tuple[str, int, str], ...] = ()  # (file, line, why) of those PEP 810 keeps eager
    executed: tuple[tuple[str, int], ...] = ()  # the deferred statements that ran (the others never did)
    # Why the run gave no result (a deadline, a signal, an exit): ``error`` says so too, and
    # ``modules`` and ``reified`` are empty, not measured.
    incomplete: str | None = None

    def saving(self, baseline: Deferral) -> frozenset[str]:
        """The modules ``baseline`` (nothing deferred) loads and this run does not."""
        return baseline.modules - self.modules

    def reification_of(self, file: str, line: int) -> Reification | None:
        for item in self.reified:
            if (item.statement_file, item.statement_line) == (_absolute(file), line):
                return item
        return None

    @property
    def reified_during_import(self) -> tuple[Reification, ...]:
        return tuple(item for item in self.reified if item.during_import)


def _absolute(path: str) -> str:
    return os.path.realpath(path)


def _reference(statement: StatementRef) -> tuple[str, int]:
    if isinstance(statement, tuple):
        file, line = statement
    else:
        file, line = statement.file, statement.line
    return _absolute(file), int(line)


def simulate(
    package: str, statements: Iterable[StatementRef], *, entry: str | None = None,
    program: Sequence[str] | None = None, python: str | None = None, timeout: float = DEFAULT_TIMEOUT,
) -> Deferral:
    """Run ENTRY (``import PACKAGE`` unless given; or PROGRAM: ``script.py ARGS``, ``-m MODULE
    ARGS`` or ``-c CODE ARGS``) in a fresh child of ``python`` with ``statements`` lazy, as PEP 810 makes them."""
    return simulate_each(package, [statements], entry=entry, program=program, python=python, timeout=timeout)[0]


def simulate_each(
    package: str, scenarios: Sequence[Iterable[StatementRef]], *, entry: str | None = None,
    program: Sequence[str] | None = None, python: str | None = None, timeout: float = DEFAULT_TIMEOUT,
    isolation: str = FORK,
) -> tuple[Deferral, ...]:
    """``simulate`` for each set of statements in ``scenarios``: with ``isolation`` FORK all in one
    child, a fork each; with SPAWN a fresh child each. An empty set is the run with nothing
    deferred. ``timeout`` bounds each scenario: one that runs past it, is killed or exits without
    reporting is ``incomplete``."""
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation is one of {', '.join(ISOLATIONS)}, not {isolation!r}")
    header = [_hex_line("entry", _entry_code(package, entry, program)), f"deadline\t{timeout!r}"]
    if program is not None:
        header.append(_hex_line("argv", *_program_argv(program)))
    requests = [[_scenario_lines(scenario) for scenario in scenarios]]
    if isolation == SPAWN or not hasattr(os, "fork"):  # without fork the child runs one scenario
        requests = [[lines] for lines in requests[0]]
    results: list[Deferral] = []
    for request in requests:
        results.extend(_run_child(python, header, request, timeout))
    return tuple(results)


def _scenario_lines(scenario: Iterable[StatementRef]) -> list[str]:
    lines = ["scenario"]
    for file, line in sorted({_reference(statement) for statement in scenario}):
        lines.append(f"defer\t{file.encode('utf-8').hex()}\t{line}")
    return lines


def _run_child(python: str | None, header: list[str], scenarios: list[list[str]], timeout: float) -> list[Deferral]:
    import sys

    from aoinspect.probing import runner
    from aoinspect.probing.wire import DeferSection, DoneSection, InternalSection, genuine, parse_all

    workdir = runner.make_workdir("aoinspect-defer-")
    try:
        result_path = os.path.join(workdir, "result.jsonl")
        request_path = os.path.join(workdir, "request")
        with open(request_path, "w", encoding="ascii") as stream:
            stream.write("\n".join(header + [line for lines in scenarios for line in lines]) + "\n")
        token = runner.write_token(result_path)
        command = [python or sys.executable, "-c", BOOTSTRAP, DEFER_FILE, result_path, request_path]
        # Each scenario has ``timeout`` (the child enforces it), and compiling them one more.
        deadline = timeout * (len(scenarios) + 1) + STARTUP_ALLOWANCE
        with runner.reaping_strays():
            returncode, output, timed_out = runner.run_bounded(command, deadline)
        raws, problem = runner.read_result(result_path)
    finally:
        runner.remove_workdir(workdir)
    raws, forged = genuine(raws, token)
    sections, parse_problem = parse_all(raws)
    by_index = {section.index: section for section in sections if isinstance(section, DeferSection)}
    internal = [section for section in sections if isinstance(section, InternalSection)]
    if internal:
        raise SimulationFailed(f"the simulation failed: {internal[0].error.type}: {internal[0].error.message}")
    missing = [index for index in range(len(scenarios)) if index not in by_index]
    if missing:
        if timed_out:
            why = f"did not end within {deadline:g} s"
        elif not any(isinstance(section, DoneSection) for section in sections):
            why = f"ended (status {returncode}) before reporting"
        else:
            why = "reported nothing for them"
        detail = problem or forged or parse_problem
        shown = output.decode("utf-8", "replace").strip()[-500:]
        raise SimulationFailed(
            f"the simulation's child {why}: scenario(s) {missing}" + (f" ({detail})" if detail else "")
            + (f"; it printed: {shown}" if shown else ""))
    return [_deferral(by_index[index]) for index in range(len(scenarios))]


def _deferral(section: object) -> Deferral:
    from aoinspect.probing.wire import DeferSection

    assert isinstance(section, DeferSection)
    return Deferral(
        modules=frozenset(section.modules),
        reified=tuple(Reification(*item) for item in section.reified),
        elapsed_ns=section.elapsed_ns, python=section.python,
        error=section.error if section.incomplete is None else f"the run gave no result: {section.incomplete}",
        deferred=section.deferred, refused=section.refused, executed=section.executed,
        incomplete=section.incomplete,
    )


def _hex_line(kind: str, *fields: str) -> str:
    return "\t".join([kind, *(field.encode("utf-8").hex() for field in fields)])


def _entry_code(package: str, entry: str | None, program: Sequence[str] | None) -> str:
    if program is not None:
        words = list(program)
        if not words:
            raise ValueError("an empty program")
        if words[0] in ("-c", "-m") and len(words) < 2:
            raise ValueError(f"{words[0]} needs a value")
        if words[0] == "-c":
            return words[1]
        if words[0].startswith("-") and words[0] != "-m":
            raise ValueError(f"a program is script.py ARGS, -m MODULE ARGS or -c CODE ARGS, not {words[0]}")
        return ""  # the child runs the script or module itself
    if entry is not None:
        return entry
    if not all(part.isidentifier() for part in package.split(".")):
        raise ValueError(f"{package!r} is not a module name")
    return f"import {package}"


def _program_argv(program: Sequence[str]) -> list[str]:
    words = list(program)
    if words[0] == "-c":
        return ["-c", *words[2:]]
    if words[0] == "-m":
        return words
    return [os.path.abspath(words[0]), *words[1:]]
