"""Frozen records that behave as ``@dataclass(frozen=True)`` classes, without their code generation.

``dataclasses`` writes each class's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__`` and ``__delattr__`` as source text and compiles it when the class is defined: about
a millisecond a class, most of what importing a module of models costs, paid again by every
command that starts. A ``Record`` has its ``__init__`` written out in its class body (compiled once
into its ``.pyc``, checked here against the fields when the class is defined) and shares the rest,
which read the fields through one ``operator.attrgetter`` a class.

What a dataclass offers stays: fields in annotation order with their defaults, equality and hashing
over the fields, the same ``repr``, ``FrozenInstanceError`` on assignment, ``__match_args__``, and
``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass`` (``__dataclass_fields__`` is
made by ``dataclasses`` itself, from the same annotations and defaults, the first time it is asked
for). Every field compares and hashes, as a plain ``x: T = default`` field of a dataclass does.

    class Hop(Record):
        function: str
        attribute: str | None = None

        def __init__(self, function: str, attribute: str | None = None) -> None:
            _set = object.__setattr__
            _set(self, "function", function)
            _set(self, "attribute", attribute)
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, ClassVar, TypeVar

if TYPE_CHECKING:
    from dataclasses import Field


RecordT = TypeVar("RecordT", bound="Record")


class _Missing:
    def __repr__(self) -> str:
        return "<no default>"


NO_DEFAULT: Any = _Missing()


class _DataclassAttribute:
    """``__dataclass_fields__`` or ``__dataclass_params__``, made by ``dataclasses`` from the
    record's own annotations and defaults on first use, then kept on the class."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type[Record]) -> Any:
        if owner is Record:
            raise AttributeError(self.name)
        shadow = _as_dataclass(owner)
        for name in ("__dataclass_fields__", "__dataclass_params__"):
            type.__setattr__(owner, name, getattr(shadow, name))
        return getattr(owner, self.name)


def _getter(names: tuple[str, ...]) -> Any:
    """The values of ``names``, as one tuple, called as ``record._values(record)``: an
    ``operator.attrgetter`` (no descriptor, so not bound), which gives a bare value for one name."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        single = attrgetter(names[0])
        return staticmethod(lambda record: (single(record),))
    return staticmethod(lambda record: ())


def _as_dataclass(record: type[Record]) -> type:
    """The dataclass ``@dataclass(frozen=True)`` makes of the record's fields and defaults."""
    import dataclasses

    fields = {}
    for name, value in zip(record._field_names, record._defaults):
        options: dict[str, Any] = {"compare": name not in record._not_compared, "repr": name not in record._not_shown}
        if value is not NO_DEFAULT and type(value).__hash__ is None:  # a shared immutable mapping
            options["default_factory"] = lambda value=value: value
        elif value is not NO_DEFAULT:
            options["default"] = value
        fields[name] = dataclasses.field(**options)
    namespace = {"__annotations__": {name: record.__annotations__[name] for name in record._field_names},
                 "__module__": record.__module__, "__qualname__": record.__qualname__, **fields}
    return dataclasses.dataclass(frozen=True)(type(record.__name__, (), namespace))


class Record:
    """The base of a frozen record (see the module's docstring): its subclasses write their
    ``__init__`` out, with a parameter per annotated field, in order, defaults equal to the class
    attributes'."""

    _field_names: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[tuple[Any, ...]] = ()
    _values: ClassVar[Callable[..., tuple[Any, ...]]]  # the values that compare and hash, in order
    _all_values: ClassVar[Callable[..., tuple[Any, ...]]]
    _shown: ClassVar[tuple[str, ...]] = ()
    _shown_values: ClassVar[Callable[..., tuple[Any, ...]]]
    # Fields left out of equality and hashing (``field(compare=False)``), and out of repr (``repr=False``).
    _not_compared: ClassVar[frozenset[str]] = frozenset()
    _not_shown: ClassVar[frozenset[str]] = frozenset()
    __match_args__: ClassVar[tuple[str, ...]] = ()
    if TYPE_CHECKING:
        __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
        __dataclass_params__: ClassVar[Any]
    else:
        __dataclass_fields__ = _DataclassAttribute("__dataclass_fields__")
        __dataclass_params__ = _DataclassAttribute("__dataclass_params__")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063  # the class's own: 3.9 has no get_annotations
        names = cls._field_names + tuple([name for name, annotation in own.items()
                                          if not str(annotation).startswith(("ClassVar", "typing.ClassVar"))
                                          and name not in cls._field_names])  # a subclass's fields follow its base's
        namespace = cls.__dict__
        defaults = tuple([namespace[name] if name in namespace else getattr(cls, name, NO_DEFAULT) for name in names])
        init = cls.__init__
        code = init.__code__
        given = init.__defaults__ or ()
        wanted = defaults[len(names) - len(given):] if given else ()
        if (code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount] != names or NO_DEFAULT in wanted
                or (given != wanted and any([a is not b and a != b for a, b in zip(given, wanted)]))
                or len([value for value in defaults if value is not NO_DEFAULT]) != len(given)):
            raise TypeError(f"{cls.__qualname__}.__init__ must take the fields {names} in order, with the class's "
                            f"defaults; it takes {code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]} "
                            f"with defaults {given}")
        cls._field_names = names
        cls._defaults = defaults
        setattr(cls, "__match_args__", names)  # noqa: B010  # mypy takes a ClassVar of a base as read-only
        all_values = cls._all_values = _getter(names)
        cls._values = all_values if not cls._not_compared else _getter(
            tuple([name for name in names if name not in cls._not_compared]))
        if cls._not_shown:
            cls._shown = tuple([name for name in names if name not in cls._not_shown])
            cls._shown_values = _getter(cls._shown)
        else:
            cls._shown, cls._shown_values = names, all_values

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in zip(self._shown, self._shown_values(self)))
        return f"{type(self).__qualname__}({values})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values(self) == other._values(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values(self))

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __replace__(self, **changes: Any) -> Any:
        """``copy.replace`` (Python 3.13+), as ``dataclasses.replace``."""
        return replace(self, **changes)


def field_names(record: Record) -> tuple[str, ...]:
    """The record's fields, in order: ``dataclasses.fields`` without importing dataclasses."""
    return record._field_names


def replace(record: RecordT, **changes: Any) -> RecordT:
    """A copy of ``record`` with ``changes``: ``dataclasses.replace`` without importing dataclasses."""
    values = dict(zip(record._field_names, record._all_values(record)))
    values.update(changes)
    return type(record)(**values)


# What a written-out ``__init__`` sets each field with (``_set = set_field``): the frozen class's own
# ``__setattr__`` refuses, and a field may be named ``object``.
set_field = object.__setattr__
