"""``check`` at scale: predict from the executed-import graph what each name loads alone, and
say which predictions must be verified in a fork of their own.

One child (``child/predict.py``) imports the package and touches every name, one after another,
with every import request recorded (``graph.py``'s recorder, hits included). A name's own
requests are those its access made (the entry owns them: no module body was running); each
edge of the graph belongs to the module whose import body made the request. What a name loads
from a fresh ``import PACKAGE`` is then predicted as the graph's reach from its own requests,
through the modules the import did not load. That is exact whenever a module's imports do not
depend on what was loaded before it; ``Prediction.risks`` says why a name's may not be, from the
modules of the name's own reach alone: a module that caught an ``ImportError`` another order could
avoid (not a module that is not installed), reads ``sys.modules`` about a module some access
loads and the import does not, holds a module put there by other means that no extension of the
reach names, a lazy path that keeps state between calls or that served a name out of view, an
access that raised. ``to_verify`` adds a seeded sample of the others, so that a wrong prediction
is caught and shown rather than hidden.
"""

from __future__ import annotations

import ast
import math
import os
import random
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aoinspect.child import protocol
from aoinspect.errors import ProbeFailed
from aoinspect.models.graph import ImportGraph, is_stdlib
from aoinspect.probing import runner, wire

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from aoinspect.models.graph import GraphModule, ImportRequest

PREDICT_FILE = os.path.join(runner.CHILD_DIR, "predict.py")
PREDICT_BOOTSTRAP = (
    'import sys; m = type(sys)("aoinspect_child_predict"); m.__file__ = sys.argv[1];'
    ' m.__builtins__ = dict(vars(sys.modules["builtins"]));'
    ' exec(sys.modules["_frozen_importlib_external"].SourceFileLoader("-", sys.argv[1]).get_code("-")'
    ' or compile(open(sys.argv[1], "rb").read(), sys.argv[1], "exec"), m.__dict__); m.main(sys.argv[2:])\n'
)
# The verified sample: at least this share of the names predicted safe, and at least this many.
SAMPLE_SHARE, SAMPLE_MINIMUM = 0.05, 20
DEFAULT_SEED = 0

RISK_RAISED = "its access raised"
RISK_FAILED_IMPORT = "{module} caught an ImportError"
RISK_ACCESS_IMPORT_FAILED = "an import its access made raised"
RISK_READS_MODULES = "{module} reads sys.modules"
RISK_OTHER_MEANS = "{module} put modules in sys.modules itself"
RISK_STATE = "the lazy path keeps state between calls: {what} in {where}"
RISK_STATE_MODULES = "the lazy path reads sys.modules in {where}"
RISK_SERVED = "{names} served lazily by an earlier import of several names at once"
RISK_HIDDEN_HOP = "{names} may have been served by its module's own __getattr__ before, unseen"
RISK_BOUND_BEFORE = "an earlier name's access bound it"
RISK_UNEXPLAINED = "its access loaded modules its requests do not explain"


@dataclass(frozen=True)
class Prediction:
    """What one name's access is predicted to load from a fresh ``import PACKAGE``."""

    name: str
    modules: frozenset[str]
    parents: Mapping[str, str | None]  # module -> the module whose import loaded it (None: the access)
    risks: tuple[str, ...]  # why the prediction may not hold (empty: the graph says it holds)
    error: str | None = None  # what the access raised in the predicting child
    object: tuple[str, str, bool] | None = None  # (type, repr, is a module) of what it returned
    cached: bool | None = None  # a second access asked for nothing and returned the same object
    second_error: str | None = None
    files: tuple[str, ...] = ()  # what the prediction read: its modules' files and its lazy path's


@dataclass(frozen=True)
class Predictions:
    """Every name's prediction, from one child's graph."""

    package: str
    graph: ImportGraph
    imported: frozenset[str]  # what ``import PACKAGE`` loaded (the baseline of every prediction)
    names: Mapping[str, Prediction]
    # name -> its pickle as the star import's probe would send it to the unpickle probe (hex; None:
    # it would send none), from the same child: the unpickle probe is guessed from it.
    pickles: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def risky(self) -> tuple[str, ...]:
        return tuple(name for name, prediction in self.names.items() if prediction.risks)


def _command(python: str, result_path: str, package: str, names: Sequence[str]) -> list[str]:
    return [python, "-c", PREDICT_BOOTSTRAP, PREDICT_FILE, result_path, package, *names]


def record_predictions(
    package: str, names: Sequence[str], *, python: str | None = None, timeout: float = 60.0,
    env: Mapping[str, str] | None = None, started: Callable[[int], None] | None = None,
) -> Predictions:
    """Run the predicting child (``import PACKAGE``, then every name of ``names`` touched in turn)
    and predict each name's set. ``ProbeFailed`` when the child says nothing usable (it hung,
    crashed, or the import failed): the caller then measures every name in its own fork."""
    interpreter = python or sys.executable
    workdir = runner.make_workdir("aoinspect-predict-")
    try:
        result_path = os.path.join(workdir, "predict.jsonl")
        log_path = os.path.join(workdir, "output.log")
        token = runner.write_token(result_path)
        _returncode, timed_out = runner.run_logged(_command(interpreter, result_path, package, names), timeout,
                                                   log_path, env=env, started=started)
        raws, problem = runner.read_result(result_path)
        output = runner.tail(log_path)
    finally:
        runner.remove_workdir(workdir)
    raws, forged = wire.genuine(raws, token)
    graph_raw = _first_raw(raws, protocol.SECTION_GRAPH)
    predict_raw = _first_raw(raws, protocol.SECTION_PREDICT)
    if timed_out and (graph_raw is None or predict_raw is None):
        # A child that hung after both were sent hung pickling (``_send_pickles``): only the guess
        # of the unpickle probe is lost, the predictions stand.
        raise ProbeFailed(f"the predicting child of {package} did not end within {timeout:g} s.")
    if graph_raw is None or predict_raw is None:
        why = problem or forged or "it reported nothing"
        raise ProbeFailed(f"the predicting child of {package} failed: {why}; {output.strip()[-300:]}")
    try:
        section = wire.parse(graph_raw)
        touched = wire.parse(predict_raw)
    except wire.ProtocolError as exc:
        raise ProbeFailed(f"the predicting child of {package} could not be read: {exc}") from None
    assert isinstance(section, wire.GraphSection) and isinstance(touched, wire.PredictSection)
    if touched.error is not None:
        raise ProbeFailed(f"import {package} raised {touched.error} in the predicting child.")
    if any(name.end > len(section.requests) for name in touched.names):
        raise ProbeFailed(f"the predicting child of {package} named requests it did not send.")
    graph = ImportGraph(package=package, python=section.python, entry=f"import {package}",
                        baseline=section.baseline, requests=section.requests, modules=section.modules,
                        ending=section.ending, error=section.error, elapsed_ns=section.elapsed_ns, cwd=os.getcwd())
    from dataclasses import replace

    predictions = predict(graph, frozenset(touched.imported), touched.names, touched)
    pickles = _pickles(raws)
    return replace(predictions, pickles=pickles) if pickles else predictions


def _first_raw(raws: Sequence[Mapping[str, Any]], section: str) -> Mapping[str, Any] | None:
    """The child's first line of ``section``, if it sent one."""
    return next((raw for raw in raws if raw.get(protocol.SECTION_KEY) == section), None)


def _pickles(raws: Sequence[Mapping[str, Any]]) -> Mapping[str, str | None]:
    """What the child's ``pickles`` section says, if it sent one that reads: only a guess hangs on it."""
    raw = _first_raw(raws, protocol.SECTION_PICKLES)
    try:
        section = wire.parse(raw) if raw is not None else None
    except wire.ProtocolError:
        return {}
    return section.pickles if isinstance(section, wire.PicklesSection) else {}


def predict(graph: ImportGraph, imported: frozenset[str], touched: Sequence[wire.TouchedName],
            noted: wire.PredictSection | None = None) -> Predictions:
    """Each name's predicted set and risks (pure: the graph, what the child said of each name, and
    what its recorder ``noted`` for prediction: failures, each ``from`` name's serving, the names
    each module with a ``__getattr__`` bound)."""
    failures: Mapping[int, str] = noted.failures if noted is not None else {}
    bound: Mapping[str, frozenset[str]] = noted.bound if noted is not None else {}
    getattr_files: Mapping[str, str] = noted.getattr_files if noted is not None else {}
    by_owner: dict[str | None, list[ImportRequest]] = {}
    for request in graph.requests:
        by_owner.setdefault(request.owner, []).append(request)
    inserted_by: dict[str, list[str]] = {}  # owner -> modules that appeared by other means under it
    inserted_with: dict[int, list[str]] = {}  # request -> modules that appeared while it ran
    other_means = set()
    for described in graph.modules:
        if described.by_other_means:
            other_means.add(described.name)
            if described.loaded_by is not None:
                inserted_with.setdefault(described.loaded_by, []).append(described.name)
            elif described.owner is not None:
                inserted_by.setdefault(described.owner, []).append(described.name)
    files = {described.name: described.file for described in graph.modules}
    serving = _serving(graph, noted.served if noted is not None else None)
    unsettled_inserted = sorted(name for name in other_means if name not in imported and not is_stdlib(name))
    known = graph.module_names | frozenset(graph.baseline)
    present = graph.module_names
    settled = imported | frozenset(graph.baseline)
    scanner = _Scanner()
    scanner.binary_candidates = frozenset(name for name in other_means if name not in settled)

    def order_dependent(request: ImportRequest) -> bool:
        """Whether a failed request may succeed in another order. One that found a module missing
        that no import ever loaded (``h2`` absent: ``try: from .http2 import ...``) cannot; a
        circular import, or a body that raised, may."""
        missing = failures.get(request.index)
        if missing:
            return missing in known
        return request.target.partition(".")[0] in known

    by_getattr: dict[tuple[str, str, bool], bool] = {}

    def served_by_getattr(module: str, item: str, exact: bool = True) -> bool:
        key = (module, item, exact)
        if key not in by_getattr:
            by_getattr[key] = _served_by_getattr(module, item, exact)
        return by_getattr[key]

    def _served_by_getattr(module: str, item: str, exact: bool) -> bool:
        """Whether ``module`` may serve ``item`` through a ``__getattr__`` of its own that imports
        what ``import PACKAGE`` did not load: what that loaded was then seen only the first time.
        ``exact``: ``item`` is the attribute taken (a ``from`` name), not a guess from the name."""
        if f"{module}.{item}" in present:
            return False
        names = bound.get(module)
        path = files.get(module)
        if names is not None:
            # The predicting child unbinds before each name's access whatever the module kept in
            # its namespace since its body (child/predict.py's _Unbinder): a serve is then in
            # view, unless its __getattr__ keeps state elsewhere (a dict of its own, a global).
            if item in names or scanner.lazy_path_state(path) is None:
                return False
        elif noted is not None and module in present:
            return False  # the child saw its body end with no ``__getattr__``
        elif not scanner.served_lazily(path, item):
            return False
        if exact and not scanner.may_serve(path, item):
            return False  # its __getattr__ serves only names it spells out (httpx2's serves ``main``)
        # Harmless when what it may import is loaded by the import, or never loaded at all.
        imports = scanner.getattr_imports(path)
        return imports is None or not all(name in settled or name not in present for name in imports)
    other_inserted = {name: described for described in graph.modules
                      if described.by_other_means and (name := described.name) not in settled}
    expansions: dict[str, _Expansion] = {}

    def expand(module: str) -> _Expansion:
        """What taking every request ``module``'s body made gives, whichever name reaches it:
        computed once, as every name that reaches a module takes all its requests."""
        found = expansions.get(module)
        if found is not None:
            return found
        found = expansions[module] = _Expansion()
        taken: set[int] = set()

        def take(request: ImportRequest) -> None:
            if request.index in taken:
                return
            taken.add(request.index)
            if request.failed and order_dependent(request):
                found.failed = True
            for target in (*request.targets, *request.loaded, *inserted_with.get(request.index, ())):
                if target not in settled:
                    found.targets.append(target)
            for item in request.names:
                served = serving.get((request.target, item))
                if served is None:
                    if f"{request.target}.{item}" not in request.submodules and item != "*" \
                            and served_by_getattr(request.target, item):
                        found.hidden.add(f"{request.target}.{item}")
                    continue
                if served[0] == request.index:
                    # Its serve's requests are its owner's, taken with them; what they found served
                    # by a module's own __getattr__ is judged per name.
                    found.hops.extend((later, item) for later in served[1] or ())
                    continue
                if served[1] is None:
                    found.lazily.add(f"{request.target}.{item}")
                else:
                    for later in served[1]:
                        found.hops.append((later, item))
                        take(later)

        for request in by_owner.get(module, ()):
            take(request)
        found.targets.extend(inserted_by.get(module, ()))
        return found

    # The prefixes of a module that reaching it reaches (it and its parent packages the import did
    # not load), and the same for all of a module's expansion at once: reached once per name.
    chains: dict[str, tuple[str, ...]] = {}

    def chain(module: str) -> tuple[str, ...]:
        found = chains.get(module)
        if found is None:
            parts = module.split(".")
            found = chains[module] = tuple(
                prefix for depth in range(1, len(parts) + 1)
                if (prefix := ".".join(parts[:depth])) not in settled and prefix in present)
        return found

    expansion_chains: dict[str, tuple[str, ...]] = {}

    def expansion_chain(module: str) -> tuple[str, ...]:
        """The modules reaching every target of ``module``'s expansion reaches, in order: a target
        reached already has its parent packages reached too, so skipping it or walking it is alike."""
        found = expansion_chains.get(module)
        if found is None:
            found = expansion_chains[module] = tuple(dict.fromkeys(
                prefix for target in expand(module).targets if target not in settled for prefix in chain(target)))
        return found

    extension_modules = frozenset(module for module in present if (files.get(module) or "").endswith((".so", ".pyd")))
    stdlib_modules = frozenset(module for module in known if is_stdlib(module))
    read_risks: dict[str, str | None] = {}

    def read_risk(module: str) -> str | None:
        """RISK_READS_MODULES for ``module`` when its body reads sys.modules about a module some
        access loads and the import does not (the answer may then differ in the name's fork)."""
        if module not in read_risks:
            read = scanner.module_level(files.get(module))
            # ``"IPython" in sys.modules`` answers alike in any order unless IPython is loaded by
            # some name's access and not by the import: only then may this name's fork differ.
            read_risks[module] = RISK_READS_MODULES.format(module=module) if read is not None and (
                read is _ANY_MODULE or any(name in present and name not in settled for name in read)) else None
        return read_risks[module]

    explained: dict[str, bool] = {}
    walks: dict[tuple[tuple[tuple[str, str | None], ...], tuple[str, ...]], _Walk] = {}

    def walk(parents: dict[str, str | None], queue: list[str]) -> _Walk:
        """Everything a name reaches from what its own requests reached (``parents``, ``queue``),
        and what that alone says of its prediction: the same for every name that starts alike."""
        walked = _Walk(parents)

        def reach_from(module: str) -> str:
            """``module``, once every module its expansion reaches is queued, with it as parent."""
            for prefix in expansion_chain(module):
                if prefix not in parents:
                    parents[prefix] = module
                    queue.append(prefix)
            return module

        def hop(request: ImportRequest, item: str) -> None:
            """``predict``'s per-name ``hop``: what it reaches is the walk's; whether a module's own
            ``__getattr__`` served ``item`` unseen depends on the name's own requests (``pending``)."""
            submodule = f"{request.target}.{item}"
            if request.hit and submodule in present and item not in bound.get(request.target, (item,)):
                if submodule not in parents and submodule not in settled:
                    for prefix in chain(submodule):
                        if prefix not in parents:
                            parents[prefix] = request.owner
                            queue.append(prefix)
            elif request.hit and served_by_getattr(request.target, item, True):
                walked.pending.append((request.target, submodule))

        while queue:
            module = reach_from(queue.pop())
            expansion = expansions[module]
            if expansion.failed:
                walked.failed.add(module)
            walked.lazily.update(expansion.lazily)
            walked.hidden.update(expansion.hidden)
            for request, item in expansion.hops:
                hop(request, item)
        predicted = frozenset(parents)
        # A module an extension made itself (Cython's shared ``_cython_3_x``) is made by whichever
        # extension loads first and found by the others: any name that loads an extension module
        # may be the one that makes it in its own fork.
        # An extension that names such a module makes it or finds it: every Cython module of one
        # version shares ``_cython_3_x``. Those the name's extensions name are predicted; only one
        # no extension of its reach names, or one a Python module put there, stays a risk.
        extensions = [files[module] or "" for module in predicted & extension_modules]
        for inserted in unsettled_inserted:
            if inserted not in parents and inserted not in settled \
                    and any(scanner.names_in_binary(path, inserted) for path in extensions):
                for prefix in chain(inserted):
                    if prefix not in parents:
                        parents[prefix] = None
                        queue.append(prefix)
        while queue:
            reach_from(queue.pop())
        walked.predicted = predicted = frozenset(parents)
        insertions = []
        for module in sorted(predicted.intersection(other_inserted) - stdlib_modules):
            if module not in explained:
                explained[module] = _explained(other_inserted[module], files, scanner, graph)
            if not explained[module]:
                insertions.append(module)
        if insertions:
            walked.insertion_risk = RISK_OTHER_MEANS.format(module=", ".join(insertions[:3]))
        walked.read_risks = [risk for module in sorted(predicted - stdlib_modules) if (risk := read_risk(module))]
        walked.files = frozenset(path for module in predicted if (path := files.get(module)))
        return walked

    names: dict[str, Prediction] = {}
    for outcome in touched:
        name, error, appeared, start, end = outcome.name, outcome.error, outcome.appeared, outcome.start, outcome.end
        bound_before = outcome.bound_before
        roots = [request for request in graph.requests[start:end] if request.owner is None]
        parents: dict[str, str | None] = {}
        risks: list[str] = []
        queue: list[str] = []

        def reach(module: str, parent: str | None, queue: list[str] = queue,
                  parents: dict[str, str | None] = parents) -> None:
            if module in parents or module in settled:  # and so are its parent packages
                return
            for prefix in chain(module):
                if prefix not in parents:
                    parents[prefix] = parent
                    queue.append(prefix)

        failed_owners: set[str | None] = set()
        taken: set[int] = set()
        lazily_served: set[str] = set()
        hidden_hops: set[str] = set()

        def take(request: ImportRequest, owner: str | None, failed_owners: set[str | None] = failed_owners,
                 taken: set[int] = taken, lazily_served: set[str] = lazily_served,
                 hidden_hops: set[str] = hidden_hops) -> None:
            """The modules ``request`` needs, and what serving its ``from`` names loaded the first
            time they were served (a ``__getattr__`` that then keeps the value asks nothing again)."""
            if request.index in taken:
                return
            taken.add(request.index)
            if request.failed and order_dependent(request):
                failed_owners.add(owner)
            for module in (*request.targets, *request.loaded, *inserted_with.get(request.index, ())):
                reach(module, owner)
            for item in request.names:
                served = serving.get((request.target, item))
                if served is None:
                    if f"{request.target}.{item}" not in request.submodules and item != "*" \
                            and served_by_getattr(request.target, item):
                        hidden_hops.add(f"{request.target}.{item}")
                    continue
                if served[0] == request.index:
                    for later in served[1] or ():
                        hop(later, item)
                    continue
                if served[1] is None:
                    lazily_served.add(f"{request.target}.{item}")
                else:
                    for later in served[1]:
                        hop(later, item)
                        take(later, owner)

        # Files whose code asked for an import during this access: a ``__getattr__`` among them
        # served now (it keeps nothing), and what it asked for is this name's own
        # (lazy_loader's one file serves many packages: the request must be for a module under
        # the package whose __getattr__ it is.)
        asking: dict[str | None, list[str]] = {}
        for request in graph.requests[start:end]:
            asking.setdefault(request.file, []).append(request.target)

        def asked_by(module: str, asking: dict[str | None, list[str]] = asking) -> bool:
            own = files.get(module)
            where = getattr_files.get(module, own)
            if where == own:
                return where in asking
            prefix = module + "."
            return any(target.startswith(prefix) for target in asking.get(where, ()))

        def hop(request: ImportRequest, item: str, hidden_hops: set[str] = hidden_hops, exact: bool = True) -> None:
            """A lazy path that took ``item`` from a module it found loaded: when that module serves
            ``item`` through a ``__getattr__`` of its own, what that loaded was seen only the first time."""
            submodule = f"{request.target}.{item}"
            if request.hit and submodule in present and item not in bound.get(request.target, (item,)):
                # A submodule bound on its package after the package's body ran, which the
                # package's ``__getattr__`` serves: in the name's fork it imports it.
                reach(submodule, request.owner)
            elif request.hit and served_by_getattr(request.target, item, exact) and not asked_by(request.target):
                hidden_hops.add(submodule)

        # An access that returned the module it imported (lazy_loader's submodules) took no
        # attribute from it.
        returned = outcome.object[1][len("<module '"):].partition("'")[0] \
            if outcome.object is not None and outcome.object[2] else None
        dotted = f"{graph.package}.{name}"
        for request in roots:
            if request.scope == "function" and request.target != returned:
                # A dotted name's access takes from a module on its path the part that follows it
                # (``models.vit.configuration_vit`` takes ``configuration_vit`` from
                # transformers.models.vit, not ``models``); from any other, the name's first part.
                # The latter is a guess (the attribute it takes is not in the graph): a
                # ``__getattr__`` that spells out the names it serves is not asked about it.
                on_path = dotted.startswith(request.target + ".")
                hop(request, dotted[len(request.target) + 1:].split(".")[0] if on_path else name.split(".")[0],
                    exact=on_path)
            take(request, None)
        # Reaching PKG.a.b means loading the modules PKG.a and PKG.a.b, when they are modules:
        # an earlier name that loaded and bound them left this one's access nothing to ask for.
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            reach(f"{graph.package}.{'.'.join(parts[:depth])}", None)
        if outcome.object is not None and outcome.object[2] and outcome.object[1].startswith("<module '"):
            reach(outcome.object[1][len("<module '"):].partition("'")[0], None)
        # What the name's own requests reached decides the rest: names that start alike (every
        # name one submodule of the package serves) share one walk.
        key = (tuple(parents.items()), tuple(queue))
        walked = walks.get(key)
        if walked is None:
            walked = walks[key] = walk(parents, queue)
        predicted = walked.predicted
        failed_owners |= walked.failed
        lazily_served |= walked.lazily
        hidden_hops |= walked.hidden
        hidden_hops.update(submodule for module, submodule in walked.pending if not asked_by(module))
        if error is not None:
            risks.append(RISK_RAISED)
        if bound_before:
            risks.append(RISK_BOUND_BEFORE)
        if lazily_served:
            risks.append(RISK_SERVED.format(names=", ".join(sorted(lazily_served)[:3])))
        if hidden_hops:
            risks.append(RISK_HIDDEN_HOP.format(names=", ".join(sorted(hidden_hops)[:3])))
        # The standard library's fallbacks (``try: from _collections import ...``) depend on the
        # interpreter, not on what the package loaded before: they are no risk.
        for owner in sorted(failed_owners - {None}, key=str):
            if not is_stdlib(owner):
                risks.append(RISK_FAILED_IMPORT.format(module=owner))
        if None in failed_owners:
            risks.append(RISK_ACCESS_IMPORT_FAILED)
        if walked.insertion_risk is not None:
            risks.append(walked.insertion_risk)
        if not predicted.issuperset(appeared):
            risks.append(RISK_UNEXPLAINED)
        risks.extend(walked.read_risks)
        for request in roots:
            if request.file is not None and request.scope == "function":
                state = scanner.access_state(request.file, request.line)
                if state is not None:
                    risks.append(state)
        asked_files = frozenset(request.file for request in roots if request.file and request.file[:1] != "<")
        read_files = walked.sorted_files.get(asked_files)
        if read_files is None:
            read_files = walked.sorted_files[asked_files] = tuple(sorted(walked.files | asked_files))
        names[name] = Prediction(
            name=name, modules=predicted, parents=walked.parents, risks=tuple(dict.fromkeys(risks)), error=error,
            object=outcome.object, cached=outcome.cached, second_error=outcome.second_error, files=read_files,
        )
    package_file = files.get(graph.package) or _module_file(graph, graph.package)
    hook_state = scanner.lazy_path_state(package_file)
    if hook_state is not None:
        names = {name: _with_risk(prediction, hook_state)
                 for name, prediction in names.items()}
    return Predictions(graph.package, graph, imported, names)


@dataclass
class _Walk:
    """What every name that starts alike reaches (``predict``'s ``walk``), and what that says of it."""

    parents: dict[str, str | None]  # module -> the module whose import loaded it (None: the access)
    predicted: frozenset[str] = frozenset()
    failed: set[str | None] = field(default_factory=set)  # modules a failed request of which may depend on the order
    lazily: set[str] = field(default_factory=set)  # RISK_SERVED's names
    hidden: set[str] = field(default_factory=set)  # RISK_HIDDEN_HOP's names
    pending: list[tuple[str, str]] = field(default_factory=list)  # (module, submodule): hidden unless asked by
    insertion_risk: str | None = None
    read_risks: list[str] = field(default_factory=list)  # RISK_READS_MODULES of its modules, in their order
    files: frozenset[str] = frozenset()  # its modules' files
    sorted_files: dict[frozenset[str], tuple[str, ...]] = field(default_factory=dict)  # with a name's own


@dataclass
class _Expansion:
    """What a module's own requests lead to (``predict``'s ``expand``)."""

    targets: list[str] = field(default_factory=list)  # modules they need
    failed: bool = False  # one failed in a way that may depend on the order
    lazily: set[str] = field(default_factory=set)  # RISK_SERVED's names
    hidden: set[str] = field(default_factory=set)  # RISK_HIDDEN_HOP's names
    hops: list[tuple[ImportRequest, str]] = field(default_factory=list)  # lazy paths it took, judged per name


def _explained(described: GraphModule, files: Mapping[str, str | None], scanner: _Scanner,
               graph: ImportGraph) -> bool:
    """Whether a module that appeared by other means was made by an extension module that names
    it (each extension that names it makes or finds it, whichever comes first: see ``predict``),
    that it is named after or under, or by a module of the standard library (``multiprocessing``
    puts ``__main__`` in as ``__mp_main__``): each makes it whenever it is loaded, whatever came before."""
    maker = described.owner
    if maker is None and described.loaded_by is not None:
        maker = graph.requests[described.loaded_by].target
    if maker is not None and is_stdlib(maker):
        return True
    path = files.get(maker) if maker is not None else None
    if not (maker is not None and path and path.endswith((".so", ".pyd"))):
        return False
    # One named after the extension itself (scipy.sparse._csparsetools makes ``_csparsetools``) is
    # its own, and so is one under it (pybind11's submodules: scipy.optimize._highspy._core.cb).
    return maker.rpartition(".")[2] == described.name or described.name.startswith(maker + ".") \
        or scanner.names_in_binary(path, described.name)


def _serving(graph: ImportGraph, served: Sequence[tuple[int, str, int, int]] | None = None,
             ) -> dict[tuple[str, str], tuple[int, list[ImportRequest] | None]]:
    """``(module, name)`` -> the first request that had ``from module import name`` served by
    more requests, and those requests (its owner's, made during it); None instead when that
    request named several names, whose requests cannot be told apart. ``concurrent.futures.
    __getattr__`` imports ``.thread`` for ``ThreadPoolExecutor`` once and keeps it: a later ``from
    concurrent.futures import ThreadPoolExecutor`` asks nothing more, yet needs what it loaded."""
    requests = graph.requests
    serving: dict[tuple[str, str], tuple[int, list[ImportRequest] | None]] = {}
    if served is not None:
        # The predicting child served each ``from`` name it found unbound on its own: what each
        # asked for is known (nothing, at times). One found bound is not here: served before, if ever.
        for index, item, first, end in served:
            if index >= len(requests) or end > len(requests):
                continue
            request = requests[index]
            if item == "*" or f"{request.target}.{item}" in request.submodules:
                continue
            during = [later for later in requests[first:end] if later.owner == request.owner]
            serving.setdefault((request.target, item), (index, during))
        return serving
    for request in requests:
        names = [name for name in request.names if name != "*" and f"{request.target}.{name}" not in request.submodules]
        if not names or request.duration_ns <= 0:
            continue
        ends = request.start_ns + request.duration_ns
        during = []
        for later in requests[request.index + 1:]:
            if later.start_ns > ends:
                break
            if later.owner == request.owner:
                during.append(later)
        if not during:
            continue
        if len(names) == 1:
            serving.setdefault((request.target, names[0]), (request.index, during))
            continue
        # Several names: each request serving one is told by the name it imports or loads.
        shares: dict[str, list[ImportRequest]] = {name: [] for name in names}
        ambiguous = False
        for later in during:
            matched = [name for name in names if name in later.names or later.target.rpartition(".")[2] == name]
            if len(matched) == 1:
                shares[matched[0]].append(later)
            else:
                ambiguous = True
        for name in names:
            serving.setdefault((request.target, name), (request.index, None if ambiguous else shares[name]))
    return serving


def _with_risk(prediction: Prediction, risk: str) -> Prediction:
    from dataclasses import replace

    return replace(prediction, risks=tuple(dict.fromkeys((*prediction.risks, risk))))


def _module_file(graph: ImportGraph, name: str) -> str | None:
    for module in graph.modules:
        if module.name == name:
            return module.file
    return None


def to_verify(predictions: Predictions, seed: int = DEFAULT_SEED, *, share: float = SAMPLE_SHARE,
              minimum: int = SAMPLE_MINIMUM) -> tuple[str, ...]:
    """The names to measure in forks of their own: every risky one, and a seeded sample of at
    least ``max(share of them, minimum)`` of the others (all of them when there are fewer)."""
    risky = predictions.risky
    rest = sorted(name for name, prediction in predictions.names.items() if not prediction.risks)
    size = min(len(rest), max(minimum, math.ceil(share * len(rest))))
    sample = random.Random(seed).sample(rest, size)
    chosen = set(risky) | set(sample)
    return tuple(name for name in predictions.names if name in chosen)


@dataclass(frozen=True)
class Disagreement:
    """A name whose measured set differs from its predicted one: the measured set wins."""

    name: str
    unpredicted: tuple[str, ...]  # measured, not predicted
    not_loaded: tuple[str, ...]  # predicted, not measured

    def __str__(self) -> str:
        parts = []
        if self.unpredicted:
            parts.append(f"{len(self.unpredicted)} more than predicted ({', '.join(self.unpredicted[:5])})")
        if self.not_loaded:
            parts.append(f"{len(self.not_loaded)} fewer ({', '.join(self.not_loaded[:5])})")
        return f"{self.name}: " + "; ".join(parts)


def disagreements(
    predictions: Predictions, measured: Mapping[str, Iterable[str]],
) -> tuple[Disagreement, ...]:
    """Where a name measured in its own fork loaded another set than predicted."""
    found = []
    for name, modules in measured.items():
        prediction = predictions.names.get(name)
        if prediction is None:
            continue
        actual = frozenset(modules)
        if actual != prediction.modules:
            found.append(Disagreement(name, tuple(sorted(actual - prediction.modules)),
                                      tuple(sorted(prediction.modules - actual))))
    return tuple(found)


def suspects(predictions: Predictions, found: Iterable[Disagreement]) -> frozenset[str] | None:
    """The names whose predictions may be wrong the way ``found`` were: for a module a name loaded
    that its prediction lacked, every name predicted to reach the module whose code loaded it in the
    predicting child (the module whose body ran, the one whose function asked) and not that module
    (``sysconfig`` caches what ``_sysconfigdata_*`` held: the first module whose body called it owns
    the edge); for a module predicted and not loaded, every name predicted to load it. None when a
    module cannot be placed so (the child never loaded it, or only the import's modules did): any
    name may then be wrong."""
    graph = predictions.graph
    described = {module.name: module for module in graph.modules}
    module_at = {module.file: module.name for module in graph.modules if module.file}
    settled = predictions.imported | frozenset(graph.baseline)
    checks: list[tuple[frozenset[str], str | None]] = []
    for item in found:
        for module in item.unpredicted:
            loaded = described.get(module)
            if loaded is None:
                return None
            candidates: list[str | None] = [loaded.owner] if loaded.by_other_means else []
            if loaded.loaded_by is not None:
                request = graph.requests[loaded.loaded_by]
                candidates += [request.owner, module_at.get(request.file) if request.file else None]
            anchors = frozenset(anchor for anchor in candidates if anchor is not None and anchor not in settled
                                and anchor != module)
            if not anchors:
                return None
            checks.append((anchors, module))
        checks.extend((frozenset({module}), None) for module in item.not_loaded)
    return frozenset(name for name, prediction in predictions.names.items()
                     if any(prediction.modules & anchors and (module is None or module not in prediction.modules)
                            for anchors, module in checks))


# --- what the source says ---------------------------------------------------------------------------


_MUTATORS = frozenset({"append", "add", "update", "setdefault", "extend", "insert", "pop", "popitem", "clear",
                       "discard", "remove"})


class _Scanner:
    """Reads source files (each once) for what makes a module's imports depend on what was
    loaded before it. Cheap first: a file that mentions neither ``sys.modules`` nor
    ``ImportError`` is not parsed."""

    def __init__(self) -> None:
        self._module_level: dict[str, frozenset[str] | None] = {}
        self._trees: dict[str, ast.Module | None] = {}
        self._lazy_names: dict[str, frozenset[str] | None] = {}
        self._getattr_imports: dict[str, frozenset[str] | None] = {}
        self._getattr_literals: dict[str, frozenset[str] | None] = {}
        self._access_state: dict[tuple[str, int], str | None] = {}
        self._function_state: dict[ast.AST, str | None] = {}
        self._function_nodes: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        self._getattr_mentions: dict[str, bool] = {}
        # An extension's path -> (the names it holds as NUL-delimited strings, the names asked about).
        self._binary_strings: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self.binary_candidates: frozenset[str] = frozenset()  # names asked of every binary read

    def _tree(self, path: str) -> ast.Module | None:
        if path not in self._trees:
            try:
                with open(path, "rb") as stream:
                    self._trees[path] = ast.parse(stream.read(), path)
            except (OSError, SyntaxError, ValueError):
                self._trees[path] = None
        return self._trees[path]

    def module_level(self, path: str | None) -> frozenset[str] | None:
        """What the module's body (its functions aside) reads of ``sys.modules`` that depends on
        what is loaded: the module names it asks for (``"IPython" in sys.modules``), ``_ANY_MODULE``
        when it reads more (a loop, ``keys()``, a name it computes), None when it reads nothing."""
        if path is None or not path.endswith(".py"):
            return None
        if path not in self._module_level:
            self._module_level[path] = self._read_module_level(path)
        return self._module_level[path]

    def _read_module_level(self, path: str) -> frozenset[str] | None:
        try:
            with open(path, "rb") as stream:
                text = stream.read()
        except OSError:
            return None
        if not _may_read_sys_modules(text):
            return None
        tree = self._tree(path)
        if tree is None:
            return None
        names: set[str] = set()
        for node in _outside_functions(tree.body):
            read = _sys_modules_read(node)
            if read is True:
                return _ANY_MODULE
            if isinstance(read, str):
                names.add(read)
        return frozenset(names) if names else None

    def names_in_binary(self, path: str, name: str) -> bool:
        """Whether the extension module at ``path`` holds ``name`` as a string of its own (a
        Cython module names its shared ``_cython_3_x`` and ``cython_runtime``). The file is read
        once for every name of ``binary_candidates`` and this one, and searched for each (an
        extension of scipy is megabytes: splitting it into its strings cost more than the searches)."""
        found = self._binary_strings.get(path)
        if found is None or name not in found[1]:
            asked = {*self.binary_candidates, name, *(found[1] if found is not None else ())}
            try:
                with open(path, "rb") as stream:
                    data = stream.read()
            except OSError:
                data = None
            held = frozenset() if data is None else frozenset(
                candidate for candidate in asked if _holds_string(data, candidate.encode()))
            self._binary_strings[path] = found = (held, frozenset(asked))
        return name in found[0]

    def getattr_imports(self, path: str | None) -> frozenset[str] | None:
        """The modules the module-level ``__getattr__`` at ``path`` imports, when it names them all
        (``import contextlib`` in ``typing``'s); None when it may import others (a name it computes)."""
        if path is None or not path.endswith(".py"):
            return None
        if path not in self._getattr_imports:
            self._getattr_imports[path] = self._read_getattr_imports(path)
        return self._getattr_imports[path]

    def _module_getattr(self, path: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The module-level ``__getattr__`` defined at ``path``, if it is defined exactly once."""
        tree = self._tree(path)
        if tree is None:
            return None
        functions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and node.name == "__getattr__"]
        return functions[0] if len(functions) == 1 else None

    def _read_getattr_imports(self, path: str) -> frozenset[str] | None:
        function = self._module_getattr(path)
        if function is None:
            return None
        names: set[str] = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    return None  # relative: resolved against a package this scan does not know
                assert node.module is not None
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Call):
                called = node.func
                text = called.attr if isinstance(called, ast.Attribute) else called.id \
                    if isinstance(called, ast.Name) else ""
                if text in ("eval", "exec") or "import" in text.lower():
                    return None
        # ``import a.b`` loads a too; ``from a import b``: a.b if it is a module.
        return frozenset(".".join(name.split(".")[:depth]) for name in names
                         for depth in range(1, name.count(".") + 2))

    def may_serve(self, path: str | None, name: str) -> bool:
        """Whether the module-level ``__getattr__`` at ``path`` may serve ``name``: False only when
        it serves the names it compares its argument with (``if name == "main":`` ...) and raises
        for any other, and ``name`` is none of them."""
        if path is None or not path.endswith(".py"):
            return True
        if path not in self._getattr_literals:
            self._getattr_literals[path] = self._read_getattr_literals(path)
        literals = self._getattr_literals[path]
        return literals is None or name in literals

    def _read_getattr_literals(self, path: str) -> frozenset[str] | None:
        function = self._module_getattr(path)
        if function is None or not function.args.args:
            return None
        argument = function.args.args[0].arg
        literals: set[str] = set()
        body: list[ast.stmt] = list(function.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # its docstring
        while body:
            statement, *rest = body
            if isinstance(statement, ast.Raise) and not rest:
                return frozenset(literals)
            if not isinstance(statement, ast.If):
                return None
            named = _compared_literals(statement.test, argument)
            if named is None:
                return None
            literals.update(named)
            body = [*statement.orelse, *rest]  # an ``elif`` chain, then what follows it
        return None

    def served_lazily(self, path: str | None, name: str) -> bool:
        """Whether the module at ``path`` has a module ``__getattr__`` and binds no ``name`` itself:
        what importing ``name`` from it loads was then seen only the first time it was served."""
        if path is None or not path.endswith(".py"):
            return False
        if path not in self._lazy_names:
            self._lazy_names[path] = self._read_lazy_names(path)
        bound = self._lazy_names[path]
        return bound is not None and name not in bound

    def _read_lazy_names(self, path: str) -> frozenset[str] | None:
        try:
            with open(path, "rb") as stream:
                if b"__getattr__" not in stream.read():
                    return None
        except OSError:
            return None
        tree = self._tree(path)
        if tree is None:
            return None
        bound: set[str] = {node.name for node in _outside_functions(tree.body, run_only=True)
                           if isinstance(node, ast.ClassDef)}
        bound.update(node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))
        lazy = False
        for node in _outside_functions(tree.body, run_only=True):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
            elif isinstance(node, ast.alias):
                bound.add((node.asname or node.name).partition(".")[0])
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lazy = lazy or node.name == "__getattr__"
            elif isinstance(node, ast.Assign):
                assigned = [item for target in node.targets
                            for item in (target.elts if isinstance(target, ast.Tuple) else [target])]
                lazy = lazy or any(isinstance(item, ast.Name) and item.id == "__getattr__" for item in assigned)
        return frozenset(bound) if lazy else None

    def access_state(self, path: str, line: int) -> str | None:
        """What the function running at ``path:line`` does that makes later calls differ: it
        writes state it keeps (a ``global``, a closure variable, a container it did not make) or
        reads ``sys.modules``."""
        key = (path, line)
        if key not in self._access_state:
            tree = self._tree(path) if path.endswith(".py") else None
            function = _enclosing_function(self._functions(path, tree), line) if tree is not None else None
            self._access_state[key] = None if function is None else self._state_of(function, path)
        return self._access_state[key]

    def _state_of(self, function: ast.FunctionDef | ast.AsyncFunctionDef, path: str) -> str | None:
        if function not in self._function_state:
            self._function_state[function] = _keeps_state(function, path)
        return self._function_state[function]

    def _mentions_getattr(self, path: str) -> bool:
        """Whether the file may define ``__getattr__``: it spells it, or holds a byte beyond ASCII (a file
        that does neither defines none: transformers' hundreds of lazy packages take theirs from a
        class elsewhere, and are not parsed for it)."""
        found = self._getattr_mentions.get(path)
        if found is None:
            try:
                with open(path, "rb") as stream:
                    data = stream.read()
                # Identifiers are folded to NFKC: a non-ASCII spelling may define it too (parsed).
                found = b"__getattr__" in data or not data.isascii()
            except OSError:
                found = True  # parsed as before, which finds it unreadable
            self._getattr_mentions[path] = found
        return found

    def _functions(self, path: str, tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        if path not in self._function_nodes:
            self._function_nodes[path] = [node for node in ast.walk(tree)
                                          if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        return self._function_nodes[path]

    def lazy_path_state(self, path: str | None) -> str | None:
        """The same for the package's own ``__getattr__`` (a later name may make no request at all)."""
        if path is None or not path.endswith(".py") or not self._mentions_getattr(path):
            return None
        tree = self._tree(path)
        if tree is None:
            return None
        for node in self._functions(path, tree):
            if node.name == "__getattr__":
                found = self._state_of(node, path)
                if found is not None:
                    return found
        return None


def _holds_string(data: bytes, text: bytes) -> bool:
    """Whether ``text`` is one of the NUL-delimited strings of ``data`` (``text in data.split(b"\\0")``)."""
    if not text or b"\0" in text:
        return text in data.split(b"\0")
    size = len(text)
    at = data.find(text)
    while at >= 0:
        if (at == 0 or data[at - 1] == 0) and (at + size == len(data) or data[at + size] == 0):
            return True
        at = data.find(text, at + 1)
    return False


def _outside_functions(body: Sequence[ast.stmt], run_only: bool = False) -> Iterable[ast.AST]:
    """Every node of ``body`` outside functions; with ``run_only``, outside ``if TYPE_CHECKING:`` too."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if run_only and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _compared_literals(test: ast.expr, argument: str) -> frozenset[str] | None:
    """The strings ``test`` compares ``argument`` with (``name == "a"``, ``name in ("a", "b")``,
    joined by ``or``), or None when it tests anything else."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        found: set[str] = set()
        for value in test.values:
            named = _compared_literals(value, argument)
            if named is None:
                return None
            found.update(named)
        return frozenset(found)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name)
            and test.left.id == argument):
        return None
    (operator,), (compared,) = test.ops, test.comparators
    if isinstance(operator, ast.Eq) and isinstance(compared, ast.Constant) and isinstance(compared.value, str):
        return frozenset({compared.value})
    if isinstance(operator, ast.In) and isinstance(compared, (ast.Tuple, ast.List, ast.Set)):
        values = [item.value for item in compared.elts if isinstance(item, ast.Constant)]
        if len(values) == len(compared.elts) and all(isinstance(value, str) for value in values):
            return frozenset(str(value) for value in values)
    return None


def _is_sys_modules(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "modules" and isinstance(node.value, ast.Name) \
        and node.value.id == "sys"


_ANY_MODULE = frozenset({"*"})  # a read of sys.modules whose answer any module may change

_SYS_MODULES = b"sys.modules"
_READ_METHODS = (b"keys", b"items", b"values", b"copy")
_COMPARING_WORDS = (b"in", b"is", b"not")
_PASSED_AFTER = b" \t\x0c\r\n)"
_PASSED_BEFORE = b" \t\x0c\r\n("


def _may_read_sys_modules(text: bytes) -> bool:
    """Whether the source ``text`` may hold a read of ``sys.modules`` that ``_reads_sys_modules``
    counts, judged from the code around each ``sys.modules`` without parsing: a comparison
    operator or ``in``/``is``/``not`` before it, a ``.keys``/``.items``/``.values``/``.copy``
    after it, across spaces, brackets and line breaks. A comment or a backslash on the way says
    True, so that the file is parsed: False only where no such read can be (most files that
    mention it store or index it, and parsing them was most of ``predict()``'s time)."""
    size = len(text)
    at = text.find(_SYS_MODULES)
    while at >= 0:
        after = at + len(_SYS_MODULES)
        # After it: ``(sys.modules).keys()``, ``sys.modules\n    .items()`` in brackets.
        forward = after
        while forward < size and text[forward] in _PASSED_AFTER:
            forward += 1
        following = text[forward:forward + 1]
        if following in (b"#", b"\\"):
            return True
        if following == b".":
            word_end = forward + 1
            while word_end < size and (text[word_end:word_end + 1].isalnum() or text[word_end] == 0x5F):
                word_end += 1
            if word_end == forward + 1 or text[forward + 1:word_end] in _READ_METHODS:
                return True  # a method it reads (or a space before its name)
        # Before it: ``name in sys.modules``, ``x in (\n    sys.modules)``, ``a < sys.modules in b``.
        backward = at
        while backward > 0 and text[backward - 1] in _PASSED_BEFORE:
            if text[backward - 1] in b"\r\n" and b"#" in text[text.rfind(b"\n", 0, backward - 1) + 1:backward - 1]:
                return True  # the line above holds a comment, which may end in ``in``
            backward -= 1
        if backward > 0:
            previous = text[backward - 1:backward]
            if previous in (b"\\", b"<", b">", b"!"):
                return True
            if previous == b"=" and text[backward - 2:backward - 1] in (b"=", b"<", b">", b"!"):
                return True
            word_start = backward
            while word_start > 0 and (text[word_start - 1:word_start].isalnum() or text[word_start - 1] == 0x5F):
                word_start -= 1
            if text[word_start:backward].endswith(_COMPARING_WORDS):
                return True  # a word that ends like one is taken for one (``0in`` is ``0 in``)
        at = text.find(_SYS_MODULES, after)
    return False


def _sys_modules_read(node: ast.AST) -> str | bool:
    """``_reads_sys_modules``, with the module asked for when the read names it (``"x" in sys.modules``)."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)) \
            and _is_sys_modules(node.comparators[0]) and isinstance(node.left, ast.Constant) \
            and isinstance(node.left.value, str):
        return node.left.value
    return _reads_sys_modules(node)


def _reads_sys_modules(node: ast.AST) -> bool:
    """A read of ``sys.modules`` whose answer depends on what is loaded: ``x in sys.modules``,
    ``keys``/``items``/``values``/``copy``, a loop over it. ``sys.modules[name]``
    (one's own module, which is there either way) is not one."""
    if isinstance(node, ast.Compare):
        return any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops) and any(
            _is_sys_modules(part) for part in node.comparators)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        # ``get``: lazy_loader caches the value on ``sys.modules.get(package_name)``, its own package.
        return node.func.attr in ("keys", "items", "values", "copy") and _is_sys_modules(node.func.value)
    if isinstance(node, (ast.For, ast.comprehension)):
        return _is_sys_modules(node.iter)
    return False


def _enclosing_function(functions: Sequence[ast.FunctionDef | ast.AsyncFunctionDef],
                        line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    found = None
    for node in functions:
        if node.lineno <= line <= (
                node.end_lineno or node.lineno) and (found is None or node.lineno >= found.lineno):
            found = node
    return found


def _keeps_state(function: ast.FunctionDef | ast.AsyncFunctionDef, path: str) -> str | None:
    local = {arg.arg for arg in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            local.add(node.id)
    where = f"{os.path.basename(path)}:{function.lineno}"
    for node in ast.walk(function):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            keyword = "global" if isinstance(node, ast.Global) else "nonlocal"
            return RISK_STATE.format(what=f"{keyword} {', '.join(node.names)}", where=where)
        if _reads_sys_modules(node):
            return RISK_STATE_MODULES.format(where=where)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS \
                and isinstance(node.func.value, ast.Name) and node.func.value.id not in local:
            return RISK_STATE.format(what=f"{node.func.value.id}.{node.func.attr}()", where=where)
        # ``_cache[name] = value`` into a container it did not make (``globals()[name] = ...`` is
        # the namespace, which the predicting child unbinds before each name).
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                and isinstance(node.value, ast.Name) and node.value.id not in local:
            return RISK_STATE.format(what=f"{node.value.id}[...] =", where=where)
    return None
