"""PROGRAM as ``python`` takes it: interpreter options, then ``script.py ARGS``, ``-m module
ARGS`` or ``-c CODE ARGS``."""

from __future__ import annotations

from aoinspect.errors import InvalidName

# Interpreter options passed on to the child's interpreter: flags, and the two that take a value.
# -i (interactive) and -x (skip the first line) change how the program is read: not supported.
INTERPRETER_FLAGS = frozenset("bBdEIOPqsSuv")
INTERPRETER_VALUES = frozenset("XW")


class InvalidProgram(InvalidName):
    """PROGRAM is not something ``python`` would run."""


class Program:
    """PROGRAM, parsed; immutable, and equal to another of the same fields. Written out rather
    than a frozen dataclass: it is made before the program starts, where generating a
    dataclass (and importing dataclasses) would delay that start by a millisecond or two."""

    __slots__ = ("arguments", "interpreter_options", "kind", "target")

    interpreter_options: tuple[str, ...]
    kind: str  # "script", "module" or "command"
    target: str  # the script's path, the module's name, or the code
    arguments: tuple[str, ...]  # after the target

    def __init__(self, interpreter_options: tuple[str, ...], kind: str, target: str,
                 arguments: tuple[str, ...]) -> None:
        for name, value in (("interpreter_options", interpreter_options), ("kind", kind), ("target", target),
                            ("arguments", arguments)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def _fields(self) -> tuple[tuple[str, ...], str, str, tuple[str, ...]]:
        return (self.interpreter_options, self.kind, self.target, self.arguments)

    def __eq__(self, other: object) -> bool:
        return type(other) is Program and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (f"Program(interpreter_options={self.interpreter_options!r}, kind={self.kind!r}, "
                f"target={self.target!r}, arguments={self.arguments!r})")

    @property
    def argv(self) -> tuple[str, ...]:
        """What the child runs, after the interpreter options (the tracer parses it again)."""
        if self.kind == "script":
            return (self.target, *self.arguments)
        return ("-m" if self.kind == "module" else "-c", self.target, *self.arguments)

    def __str__(self) -> str:
        shown = {"script": self.target, "module": f"-m {self.target}", "command": "-c ..."}[self.kind]
        return " ".join([*self.interpreter_options, shown, *self.arguments])


def parse_program(words: tuple[str, ...] | list[str]) -> Program:
    words = list(words)
    options: list[str] = []
    while words and words[0].startswith("-") and words[0] != "-" and words[0][1:2] not in ("c", "m"):
        word = words.pop(0)
        if word == "--":
            break
        letters = word[1:]
        if letters[:1] in INTERPRETER_VALUES:
            if len(letters) == 1:
                if not words:
                    raise InvalidProgram(f"the interpreter option {word} needs a value.")
                options += [word, words.pop(0)]
            else:
                options.append(word)
            continue
        if not letters or not set(letters) <= INTERPRETER_FLAGS:
            raise InvalidProgram(
                f"{word!r} is not an interpreter option aoinspect trace passes on "
                f"(-{' -'.join(sorted(INTERPRETER_FLAGS))}, -X OPT, -W ARG)."
            )
        options.append(word)
    if not words:
        raise InvalidProgram("give the PROGRAM to trace after --: script.py ARGS, -m module ARGS or -c CODE ARGS.")
    first = words[0]
    if first == "-":
        raise InvalidProgram("a program read from standard input (-) cannot be traced: save it to a file.")
    for flag, kind in (("-c", "command"), ("-m", "module")):
        if first == flag:
            if len(words) < 2:
                raise InvalidProgram(f"{flag} needs {'CODE' if flag == '-c' else 'a module name'}.")
            return Program(tuple(options), kind, words[1], tuple(words[2:]))
        if first.startswith(flag):
            return Program(tuple(options), kind, first[2:], tuple(words[1:]))
    return Program(tuple(options), "script", first, tuple(words[1:]))
