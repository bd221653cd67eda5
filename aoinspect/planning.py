"""Probe plans: the probe requests a command needs, each paired with the function that reads its
runs. The engine builds one plan per command, the rules of ``check`` add to it, and running it
hands every request to the session at once (in stages when a probe needs what others measured).
It sits between the rules and ``probing``: it knows requests, runs and sessions, not what a rule
judges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aoinspect.probing.session import Session
    from aoinspect.probing.wire import ProbeRequest, ProbeRun

T = TypeVar("T")


class Outcome(Generic[T]):
    """The read result of a planned probe, available once the plan has run."""

    def __init__(self, read: Callable[[Sequence[ProbeRun]], T], stage: int = 0) -> None:
        self._read = read
        self._value: T | None = None
        self._ready = False
        self.stage = stage  # 0: runs first; n: after the probes of stage n - 1 were read
        self.runs: tuple[ProbeRun, ...] = ()

    def _set(self, runs: Sequence[ProbeRun]) -> None:
        self.runs = tuple(runs)
        self._value = self._read(runs)
        self._ready = True

    @property
    def ready(self) -> bool:
        """Whether the plan has read it (a probe planned with ``later`` may run before others are)."""
        return self._ready

    @property
    def value(self) -> T:
        if not self._ready:
            raise RuntimeError("the plan has not run yet")
        return self._value  # type: ignore[return-value]


class Plan:
    """Probe requests, each paired with the function that reads its runs: adding a probe is one
    ``add`` where it is needed, never an index into a list of runs. Requests under the same
    ``key`` are planned once and shared. A probe that needs what others measured first is
    planned with ``later``; the plan runs in stages, every probe of a stage at once."""

    def __init__(self) -> None:
        self._entries: list[tuple[Callable[[], Sequence[ProbeRequest]], Outcome[Any]]] = []
        self._shared: dict[str, Outcome[Any]] = {}
        self._made: dict[str, Any] = {}
        self._guesses: list[tuple[Callable[[], Sequence[ProbeRequest]],
                                  Callable[[ProbeRun], Sequence[ProbeRequest]] | None]] = []
        self._staged_guesses: list[tuple[Callable[[], Sequence[ProbeRequest]], Outcome[Any]]] = []

    def add(
        self, request: ProbeRequest, read: Callable[[Sequence[ProbeRun]], T], *, repeat: int = 1,
        key: str | None = None,
    ) -> Outcome[T]:
        """Run ``request`` ``repeat`` times; ``read`` gets those runs."""
        if key is not None and key in self._shared:
            return self._shared[key]
        outcome: Outcome[T] = Outcome(read)
        batch = (request,) * repeat
        self._entries.append((lambda: batch, outcome))
        if key is not None:
            self._shared[key] = outcome
        return outcome

    def later(
        self, after: Sequence[Outcome[Any]], build: Callable[[], Sequence[ProbeRequest]],
        read: Callable[[Sequence[ProbeRun]], T],
    ) -> Outcome[T]:
        """Once every outcome of ``after`` is read, run the requests ``build`` makes from them
        (none at all is fine); ``read`` gets their runs."""
        outcome: Outcome[T] = Outcome(read, 1 + max((earlier.stage for earlier in after), default=0))
        self._entries.append((build, outcome))
        return outcome

    def shared(self, key: str, make: Callable[[], T]) -> T:
        """What several planners share (one probe that two rules read), made by ``make`` once
        under ``key``; whoever asks first makes it."""
        if key not in self._made:
            self._made[key] = make()
        made: T = self._made[key]
        return made

    def beside(self, wait: Callable[[], T]) -> Outcome[T]:
        """What runs beside the plan (a child of its own, started by the caller): no probe of its
        own; ``wait`` is called for its value once the first stage's probes have run, so that
        the probes that need it (planned with ``later``) run after it and the others beside it."""
        outcome: Outcome[T] = Outcome(lambda runs: wait())
        self._entries.append((lambda: (), outcome))
        return outcome

    def guess(self, requests: Callable[[], Sequence[ProbeRequest]],
              then: Callable[[ProbeRun], Sequence[ProbeRequest]] | None = None, *,
              at: Outcome[Any] | None = None) -> None:
        """Requests a later stage will most likely make, guessed (by ``requests``, called when the
        plan starts) before what they depend on is known: the session starts them beside the first
        stage (``Session.prefetch``), and the stage that asks for exactly them takes their runs; a
        wrong guess costs a probe, never a different result. ``then(run)``: the guesses one of
        them leads to. ``at``: guessed once the stage that runs ``at``'s probes has made its
        requests, rather than when the plan starts (what the guess needs is known by then), and
        started beside that stage on a lane of its own (``Session.prefetch``'s ``own_lane``)."""
        if at is not None:
            self._staged_guesses.append((requests, at))
        else:
            self._guesses.append((requests, then))

    def run(self, session: Session) -> None:
        if self._guesses:
            with session.guessing():
                for guessing, then in self._guesses:
                    guessed = guessing()
                    if guessed:
                        session.prefetch(guessed, then)
        for stage in sorted({outcome.stage for _build, outcome in self._entries}):
            batches = [(tuple(build()), outcome) for build, outcome in self._entries if outcome.stage == stage]
            requests = [request for batch, _outcome in batches for request in batch]
            for guessing, at in self._staged_guesses:
                if at.stage == stage:
                    guessed = guessing()
                    if guessed:
                        session.prefetch(guessed, own_lane=True)
            runs = session.run(requests) if requests else []
            start = 0
            for batch, outcome in batches:
                outcome._set(runs[start:start + len(batch)])
                start += len(batch)
            if (self._guesses or self._staged_guesses) and stage == 0:
                # The guesses stood aside (niced) for the first stage and what runs beside it:
                # from here on they are as urgent as the probes the next stages ask for.
                session.promote_guesses()
