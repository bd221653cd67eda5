"""The rules about tools that look at a package (aoinspect/rules/introspection.py): each fires on a
fake built to break it, says what it loaded and raised, and stays quiet on ``ao``, on well-behaved
lazy packages and on every lazy mechanism aoinspect recognises."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from aoinspect.child import protocol
from aoinspect.cli import cli
from aoinspect.planning import Plan
from aoinspect.probing import wire
from aoinspect.probing.wire import ProbeRequest, ProbeRun
from aoinspect.rules.introspection import PROBED_ATTRIBUTES
from tests import packages
from tests.helpers import FakePackages, document
from tests.packages import LAZY_INIT, lazy_package

NEW_RULES = ("dir-loads", "dunder-probe", "getmodule-loads", "pickle-roundtrip", "completion-loads")
# The page of the docs that lists the attributes dunder-probe tries (moved there from the README).
CHECK_DOCS = Path(__file__).resolve().parent.parent / "docs" / "reference" / "check.md"


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Any]]:
    """``checked(FILES, PACKAGE, *OPTIONS)``: the document of ``check --format json`` on PACKAGE,
    written from FILES; run once per package and options, however many tests read it."""
    runs: dict[tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]], dict[str, Any]] = {}

    def check(files: dict[str, str], package: str, *options: str) -> dict[str, Any]:
        key = (package, tuple(sorted(files.items())), options)
        if key not in runs:
            site = FakePackages(tmp_path_factory.mktemp("site"))
            site.write(files)
            result = CliRunner().invoke(cli, ["-p", package, "check", *options, "--format", "json"], env=site.env,
                                        catch_exceptions=False)
            runs[key] = document(result)
        return runs[key]

    return check


def findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of the rules this module is about."""
    return [finding for finding in doc["findings"] if finding["rule"] in NEW_RULES]


def messages(found: list[dict], rule: str) -> list[str]:
    return [finding["message"] for finding in found if finding["rule"] == rule]


# (case, files, package, rule, severity, what one message says, in parts: counts and the wording of
# exceptions vary with the Python version)
FIRES = [
    ("__dir__ imports", packages.DIR_IMPORTS, "dirloads", "dir-loads", "warning",
     ("dir(dirloads) imports ", " module(s) (dirloads.heavy, colorsys, fractions, ", " ms; IPython, debuggers")),
    ("__dir__ raises", lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg").replace(
        "return sorted(list(globals()) + __all__)", "raise RuntimeError('no dir')")), "pkg", "dir-loads", "warning",
     ("dir(pkg) raises RuntimeError: no dir at ", "pkg/__init__.py:"),),
    ("__getattr__ imports any name", packages.IMPORTS_ANY_NAME, "anyname", "dunder-probe", "error",
     ("hasattr(anyname, '__wrapped__') raises ModuleNotFoundError: No module named 'anyname.__wrapped__'",
      "instead of returning False")),
    ("__getattr__ loads before deciding", packages.LOADS_BEFORE_DECIDING, "registry", "dunder-probe", "error",
     ("hasattr(registry, '__wrapped__') imports ", " module(s) (registry._table, colorsys, ")),
    ("a proxy in sys.modules", packages.PROXY_IN_SYS_MODULES, "aliased", "getmodule-loads", "error",
     ("inspect.getmodule imports ", " module(s) (aliased._legacy, colorsys, ",
      "after 'import aliased': it reads __file__ of every module in sys.modules.")),
    # PyTorch PR 179762: lazy_loader.load's pattern. A true finding on the LAZY_MODULE fake.
    ("a LazyLoader module in sys.modules", packages.LAZY_MODULE, "deferred", "getmodule-loads", "error",
     ("inspect.getmodule imports ", "which executed the LazyLoader module(s) deferred.heavy.")),
    ("__module__ served only after an access", packages.PICKLE_ASTRAY, "astray", "pickle-roundtrip", "error",
     ("astray.Widget (a class) pickles as astray.public.Widget (its __module__ and __qualname__), but "
      "pickle.loads in a fresh interpreter, where astray.Widget was not accessed, raises AttributeError",
      "; unpickling imports 1 module(s) (astray.public).")),
    ("a local class", packages.PICKLE_ASTRAY, "astray", "pickle-roundtrip", "warning",
     ("pickle.dumps(astray.Made) raises ", ": the class is made inside a function "
      "(astray._impl.make.<locals>.Made), so pickle reaches it by no path, lazy or not.")),
    ("a class made on every access", packages.PICKLE_ASTRAY, "astray", "pickle-roundtrip", "error",
     ("pickle.dumps(astray.Fresh) raises ", "PicklingError", "(astray.Fresh) do not lead back to it.")),
    # The completer looks names up in the order of a set of strings: the message sorts them.
    ("__dir__ lists lazy names", lazy_package("pkg"), "pkg", "completion-loads", "info",
     ("pressing TAB after 'pkg.' in the standard REPL (rlcompleter) looks up 3 names and imports 2 module(s) "
      "(pkg.alpha, pkg.beta) in ", " ms.")),
]


@pytest.mark.parametrize(("files", "package", "rule", "severity", "says"),
                         [case[1:] for case in FIRES], ids=[case[0] for case in FIRES])
def test_rule_fires_and_says_what_happened(checked, files, package, rule, severity, says) -> None:  # type: ignore[no-untyped-def]
    found = [finding for finding in findings(checked(files, package)) if finding["rule"] == rule]
    saying = [finding for finding in found if all(part in finding["message"] for part in says)]
    assert saying, found
    assert {finding["severity"] for finding in saying} == {severity}


def test_pickle_roundtrip_names_each_class_and_leaves_good_ones_alone(checked) -> None:  # type: ignore[no-untyped-def]
    found = findings(checked(packages.PICKLE_ASTRAY, "astray"))
    # Model and helper are defined at module level, where their __module__ says: they round-trip.
    severities = {f["name"]: f["severity"] for f in found if f["rule"] == "pickle-roundtrip"}
    # Made is made inside a function: no path reaches it, lazy or not, so it is only a warning.
    assert severities == {"Fresh": "error", "Made": "warning", "Widget": "error"}


def test_dunder_probe_reports_one_kind_of_failure_once(checked) -> None:  # type: ignore[no-untyped-def]
    (message,) = messages(findings(checked(packages.IMPORTS_ANY_NAME, "anyname")), "dunder-probe")
    assert "inspect.unwrap and inspect.signature probe it on any object" in message
    # Every probed name raises the same way but __path__, which a package has: 1 + 8 + 6 of 16.
    assert len(PROBED_ATTRIBUTES) == 16
    assert "; so do '__signature__', '__origin__', " in message and " and 6 more. " in message
    assert message.endswith("Fix: make __getattr__ raise AttributeError for names it does not serve before importing "
                            "anything.")


# Quiet: none of the new rules has an error or warning to give; TAB completion, an info, is what
# it is (dir() lists lazy names, and the completer looks each up to mark callables).
QUIET = [
    ("ao", {}, "ao", set()),
    ("a well-behaved lazy package", lazy_package("pkg"), "pkg", {"completion-loads"}),
    ("CLASS_GETATTR", packages.CLASS_GETATTR, "classlazy", {"completion-loads"}),
    ("CLASS_SWAP", packages.CLASS_SWAP, "swapped", set()),
    ("PROXY", packages.PROXY, "proxied", set()),
    ("LAZY_MODULE", packages.LAZY_MODULE, "deferred", {"getmodule-loads"}),  # a true finding: see FIRES
    ("LAZY_LOADER", packages.LAZY_LOADER, "attached", {"completion-loads"}),
    ("GLOBALS_FALLBACK", packages.GLOBALS_FALLBACK, "fallback", set()),
    ("DECLARED_STATICALLY", packages.DECLARED_STATICALLY, "declared", set()),
]


@pytest.mark.parametrize(("files", "package", "expected"), [case[1:] for case in QUIET],
                         ids=[case[0] for case in QUIET])
def test_rules_are_quiet_on_well_behaved_packages(checked, files, package, expected) -> None:  # type: ignore[no-untyped-def]
    found = findings(checked(files, package))
    assert {finding["rule"] for finding in found} == expected, found
    assert all(finding["severity"] == "info" for finding in found if finding["rule"] == "completion-loads")


@pytest.mark.real
def test_quiet_on_a_real_lazy_loader_package(invoke, fake) -> None:
    pytest.importorskip("lazy_loader")
    fake.write({
        "realll/__init__.py": """
            import lazy_loader as lazy

            __getattr__, __dir__, __all__ = lazy.attach(
                __name__, submodules=["heavy"], submod_attrs={"util": ["tool", "Tool"]}
            )
        """,
        "realll/heavy.py": packages.HEAVY,
        "realll/util.py": "import colorsys\ndef tool(): pass\nclass Tool: pass\n",
    })
    found = findings(document(invoke("-p", "realll", "check", "--format", "json")))
    assert {finding["rule"] for finding in found} == {"completion-loads"}, found
    (message,) = messages(found, "completion-loads")
    assert "looks up 3 names and imports" in message


def test_spawned_probes_carry_the_pickles_too(checked) -> None:  # type: ignore[no-untyped-def]
    found = findings(checked(packages.PICKLE_ASTRAY, "astray", "--isolation", "spawn"))
    assert sorted(f["name"] for f in found if f["rule"] == "pickle-roundtrip") == ["Fresh", "Made", "Widget"]


def test_a_probe_that_dies_under_a_tool_is_a_probe_failure(invoke, fake) -> None:
    dies = "    if name == '__wrapped__':\n        import os\n        os._exit(3)\n"
    fake.write(lazy_package("pkg", init=LAZY_INIT.format(pkg="pkg").replace(
        "    if name in __all__:", dies + "    if name in __all__:")))
    doc = document(invoke("-p", "pkg", "check", "--format", "json"))
    failed = [f["message"] for f in doc["findings"] if f["rule"] == "probe-failed"]
    assert failed == ["the probe exited with status 3 without reporting while probing hasattr(pkg, ...)."]
    assert doc["exit_code"] == 4


def test_junit_and_json_carry_the_new_rules(invoke, fake, checked) -> None:  # type: ignore[no-untyped-def]
    fake.write(packages.PICKLE_ASTRAY)
    suite = ET.fromstring(invoke("-p", "astray", "check", "--format", "junit").stdout)
    cases = {(case.get("classname"), case.get("name")): case for case in suite.iter("testcase")}
    assert {rule for _classname, rule in cases} >= set(NEW_RULES)
    assert cases[("astray.Widget", "pickle-roundtrip")].find("failure") is not None
    assert cases[("astray.Model", "pickle-roundtrip")].find("failure") is None
    doc = checked(packages.PICKLE_ASTRAY, "astray")
    assert {f["rule"] for f in doc["findings"]} >= {"pickle-roundtrip", "completion-loads"}


def test_ignore_skips_the_probes(checked) -> None:  # type: ignore[no-untyped-def]
    ignored = [option for rule in NEW_RULES for option in ("--ignore", rule)]
    assert findings(checked(packages.PICKLE_ASTRAY, "astray", *ignored)) == []


# --- the registry, the docs and the wire -------------------------------------------------------


def test_the_docs_list_the_probed_attributes() -> None:
    text = CHECK_DOCS.read_text(encoding="utf-8")
    for name in PROBED_ATTRIBUTES:
        assert f"`{name}`" in text, name


def test_every_mode_has_a_branch_in_the_probe() -> None:
    # Every section a parser, and the reverse: tests/test_child.py. The rules tables: test_cli.py.
    probe = (Path(protocol.__file__).parent / "measure.py").read_text(encoding="utf-8")
    for mode in protocol.REQUEST_MODES:
        name = next(key for key, value in vars(protocol).items() if key.startswith("MODE_") and value == mode)
        assert f"mode == protocol.{name}:" in probe, mode


@pytest.mark.parametrize("data", ["zz", "0" * (2 * protocol.PICKLE_LIMIT + 2)])
def test_a_pickle_that_is_no_reference_by_name_breaks_the_protocol(data: str) -> None:
    raw = {"section": protocol.SECTION_PICKLE, "name": "X", "kind": "class", "data": data}
    with pytest.raises(wire.ProtocolError):
        wire.parse(raw)


class RecordingSession:
    """Runs nothing: answers each request with a run that only says it was made."""

    def __init__(self) -> None:
        self.batches: list[list[ProbeRequest]] = []

    def run(self, requests: list[ProbeRequest]) -> list[ProbeRun]:
        self.batches.append(list(requests))
        return [ProbeRun(request, (), 0, False, 1.0) for request in requests]


class GuessingSession(RecordingSession):
    """Says, in ``events``, what it was asked in order: the guesses (``prefetch``), the probes a
    stage runs (their modes), and ``promote_guesses``."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def guessing(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def prefetch(self, requests: list[ProbeRequest], then: object = None, own_lane: bool = False) -> None:
        self.events.append(f"guessed {[request.names for request in requests]} own_lane={own_lane}")

    def promote_guesses(self) -> None:
        self.events.append("promoted")

    def run(self, requests: list[ProbeRequest]) -> list[ProbeRun]:
        self.events.extend(request.mode for request in requests)
        return super().run(requests)


def test_plan_runs_later_probes_once_what_they_need_was_read() -> None:
    plan = Plan()
    first = plan.add(ProbeRequest(protocol.MODE_RESOLVE, "pkg", ("a",)), lambda runs: runs[0].request.names)
    second = plan.later([first], lambda: [ProbeRequest(protocol.MODE_PICKLE, "pkg", first.value)],
                        lambda runs: [run.request.mode for run in runs])
    nothing = plan.later([second], lambda: [], lambda runs: len(runs))
    session = RecordingSession()
    plan.run(session)  # type: ignore[arg-type]
    assert [[request.mode for request in batch] for batch in session.batches] == [["resolve"], ["pickle"]]
    assert second.value == ["pickle"]
    assert nothing.value == 0


def test_guesses_stand_aside_only_for_the_first_stage() -> None:
    """Guessed probes run niced beside the first stage (and the predicting child it waits for);
    once it was read, the session is told to give them their own priority, before the next
    stage runs."""
    plan = Plan()
    first = plan.add(ProbeRequest(protocol.MODE_RESOLVE, "pkg", ("a",)), lambda runs: len(runs))
    plan.later([first], lambda: [ProbeRequest(protocol.MODE_STAR, "pkg")], lambda runs: len(runs))
    plan.guess(lambda: [ProbeRequest(protocol.MODE_STAR, "pkg")])
    session = GuessingSession()
    plan.run(session)  # type: ignore[arg-type]
    assert session.events == ["guessed [()] own_lane=False", "resolve", "promoted", "star"]


def test_a_guess_made_at_a_stage_is_made_once_its_requests_are_and_before_they_run() -> None:
    """``Plan.guess(at=...)``: guessed from what the stage's own requests were built from (so the
    guess can use it), handed to the session before that stage runs, on a lane of its own."""
    plan = Plan()
    built: list[str] = []
    first = plan.add(ProbeRequest(protocol.MODE_RESOLVE, "pkg", ("a",)), lambda runs: len(runs))

    def star() -> list[ProbeRequest]:
        built.append("C")
        return [ProbeRequest(protocol.MODE_STAR, "pkg")]

    starred = plan.later([first], star, lambda runs: len(runs))
    plan.later([starred], lambda: [ProbeRequest(protocol.MODE_UNPICKLE, "pkg", tuple(built))], lambda runs: len(runs))
    plan.guess(lambda: [ProbeRequest(protocol.MODE_UNPICKLE, "pkg", tuple(built))], at=starred)
    session = GuessingSession()
    plan.run(session)  # type: ignore[arg-type]
    assert session.events == ["resolve", "promoted", "guessed [('C',)] own_lane=True", "star", "unpickle"]


def test_completion_never_binds_readline(checked) -> None:  # type: ignore[no-untyped-def]
    # The completer is built without readline, which may write escape sequences to the terminal.
    files = lazy_package("pkg", alpha="import sys\nassert 'readline' not in sys.modules\n")
    (message,) = messages(findings(checked(files, "pkg")), "completion-loads")
    assert "imports 2 module(s)" in message and "raises" not in message


def test_completion_that_raises_says_what_to_fix(checked) -> None:  # type: ignore[no-untyped-def]
    # openai: TAB after 'openai.' raises TypeError from inspect.signature on a proxy; "nothing,
    # unless it is slow" is no advice for a completion that shows nothing at all.
    found = findings(checked(lazy_package("pkg", beta="raise RuntimeError('beta is broken')\n"), "pkg"))
    (message,) = messages(found, "completion-loads")
    assert "raises RuntimeError: beta is broken" in message, message
    assert "the REPL shows no completions. Fix: let every name dir(PKG) lists be looked up without raising" in message
    assert "unless it is slow" not in message


# --- probes that load the whole package: their deadline, and the preset that leaves them out ----


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_a_slow_star_import_gets_a_deadline_from_the_package_cost(invoke, fake, isolation: str) -> None:
    """librosa: each name fits in --timeout, `from PKG import *` and TAB completion (all of them at
    once) do not; they get max(--timeout, 3 x the measured cost + 10 s), and the report says so."""
    assert packages.SLOW_NAME_S < packages.SLOW_STAR_TIMEOUT_S / 4
    assert len(packages.SLOW_NAMES) * packages.SLOW_NAME_S > packages.SLOW_STAR_TIMEOUT_S
    fake.write(packages.SLOW_STAR)
    timeout = format(packages.SLOW_STAR_TIMEOUT_S, "g")
    result = invoke("--isolation", isolation, "--timeout", timeout, "-p", "slowstar", "check", "--ignore",
                    "pickle-roundtrip", "--format", "json")
    doc = document(result)
    rules = {finding["rule"] for finding in doc["findings"]}
    assert "probe-failed" not in rules, doc["findings"]
    assert {"star-import", "completion-loads"} <= rules  # the true findings, measured to the end
    (note,) = [note for note in doc["notes"] if "load the whole package" in note]
    assert f"rather than --timeout's {timeout} s: 3 x the " in note and "plus 10 s." in note
    assert result.exit_code == 0


def test_a_timeout_names_the_option_that_raises_it(invoke, fake) -> None:
    fake.write(lazy_package("pkg", beta="import time\ntime.sleep(30)\n"))
    doc = document(invoke("--timeout", "0.5", "-p", "pkg", "check", "--ignore", "whole-package", "--format", "json"))
    (failed,) = [finding for finding in doc["findings"] if finding["rule"] == "probe-failed"]
    assert "timed out after 0.5 s while accessing pkg.beta (--timeout SECONDS raises the deadline)." in \
        failed["message"]


def test_the_whole_package_preset_leaves_out_those_probes(invoke, fake) -> None:
    from aoinspect.rules import PRESETS, RULES, WHOLE_PACKAGE

    whole = {rule.id for rule in RULES if rule.whole_package}
    assert whole == {"star-import", "completion-loads", "pickle-roundtrip"} == set(PRESETS[WHOLE_PACKAGE])
    fake.write(packages.PICKLE_ASTRAY)
    full = document(invoke("-p", "astray", "check", "--format", "json"))
    assert whole & {finding["rule"] for finding in full["findings"]}
    quick = document(invoke("-p", "astray", "check", "--ignore", "whole-package", "--format", "json"))
    assert not whole & set(quick["rules"])
    assert not whole & {finding["rule"] for finding in quick["findings"]}
    assert set(full["rules"]) - set(quick["rules"]) == whole


def test_the_preset_is_in_the_help_and_a_typo_is_caught(invoke) -> None:
    from aoinspect.rules import PRESETS, WHOLE_PACKAGE

    help_text = invoke("check", "--help").stdout
    assert f"whole-package          {', '.join(PRESETS[WHOLE_PACKAGE])}: " in help_text
    result = invoke("check", "--ignore", "whole-packages")
    assert result.exit_code == 2
    assert "did you mean 'whole-package'?" in result.stderr


# --- pickling many names: shared probes, and findings measured again alone -----------------------

PICKLED_MANY = 60  # more than a probe of 50, and than the sample check measures: the rest is predicted
PICKLE_BREAKER = {
    "pkg/__init__.py": f"""
        import importlib

        __all__ = ["Breaker", "Victim", "Widget", *[f"C{{index}}" for index in range({PICKLED_MANY})]]


        def __dir__():
            return __all__


        def __getattr__(name):
            if name == "Breaker":
                from . import _impl
                # Another class now stands where Victim's __module__ and __qualname__ lead: a
                # Victim accessed after this access no longer pickles; alone, it does.
                _impl.Victim = type("Victim", (), {{"__module__": "pkg._impl"}})
                return _impl.helper
            if name == "Victim":
                from . import _impl
                return _impl.ORIGINAL
            if name == "Widget":
                from . import public
                from ._impl import Widget
                public.Widget = Widget  # only now does the path in Widget.__module__ hold it
                return Widget
            if name in __all__:
                return getattr(importlib.import_module(f"._c{{int(name[1:]) % 3}}", __name__), name)
            raise AttributeError(name)
    """,
    "pkg/public.py": "",
    "pkg/_impl.py": """
        class Victim:
            pass


        ORIGINAL = Victim


        class Widget:
            pass


        Widget.__module__ = "pkg.public"


        def helper():
            pass
    """,
    **{f"pkg/_c{group}.py": "".join(f"class C{index}:\n    pass\n\n\n" for index in range(group, PICKLED_MANY, 3))
       for group in range(3)},
}


@pytest.mark.parametrize("exact", [False, True], ids=["predicted", "exact"])
def test_pickling_shares_probes_and_measures_a_finding_again_alone(invoke, fake, monkeypatch, exact: bool) -> None:
    """Every name is pickled by one probe, the star import's, once it has loaded them (50 a probe of
    their own under --exact); an error found in a shared probe is measured in the name's own
    probes, which decide: Victim breaks only after Breaker's access, Widget in every order."""
    from aoinspect.probing.session import Session

    pickled: list[tuple[str, ...]] = []
    stars: list[tuple[str, ...]] = []
    beside: list[set[str]] = []  # the modes of the probes run beside the star import's
    run = Session.run

    def recording(self: Session, requests: list[ProbeRequest]) -> list[ProbeRun]:
        pickled.extend(request.names for request in requests if request.mode == protocol.MODE_PICKLE)
        stars.extend(request.names for request in requests if request.mode == protocol.MODE_STAR)
        if any(request.mode == protocol.MODE_STAR for request in requests):
            beside.append({request.mode for request in requests})
        return run(self, requests)

    monkeypatch.setattr(Session, "run", recording)
    fake.write(PICKLE_BREAKER)
    doc = document(invoke("-p", "pkg", "--no-cache", "check", *(["--exact"] if exact else []), "--format", "json"))
    found = {f["name"]: f["message"] for f in doc["findings"] if f["rule"] == "pickle-roundtrip"}
    assert set(found) == {"Widget"}, found
    assert "pickle.loads in a fresh interpreter, where pkg.Widget was not accessed, raises AttributeError" \
        in found["Widget"]
    sizes = [len(names) for names in pickled]
    assert sizes[:-2] == ([50, PICKLED_MANY + 3 - 50] if exact else [])
    assert [len(names) for names in stars] == [0 if exact else PICKLED_MANY + 3]
    assert sorted(pickled[-2:]) == [("Victim",), ("Widget",)]
    assert any(f["rule"] == "star-import" for f in doc["findings"])
    # Where check predicts, the probes that load the whole package run beside the sampled names'
    # forks, once the predicting child has said what touching every name costs.
    assert (protocol.MODE_RESOLVE in beside[0]) is not exact


@pytest.mark.parametrize("exact", [False, True], ids=["predicted", "exact"])
def test_the_star_import_probe_runs_for_pickles_alone_only_when_it_carries_some(invoke, fake, monkeypatch,
                                                                                exact: bool) -> None:
    from aoinspect.probing.session import Session

    stars: list[tuple[str, ...]] = []
    run = Session.run

    def recording(self: Session, requests: list[ProbeRequest]) -> list[ProbeRun]:
        stars.extend(request.names for request in requests if request.mode == protocol.MODE_STAR)
        return run(self, requests)

    monkeypatch.setattr(Session, "run", recording)
    fake.write(PICKLE_BREAKER)
    doc = document(invoke("-p", "pkg", "--no-cache", "check", "--ignore", "star-import",
                          *(["--exact"] if exact else []), "--format", "json"))
    assert {f["name"] for f in doc["findings"] if f["rule"] == "pickle-roundtrip"} == {"Widget"}
    assert not any(f["rule"] == "star-import" for f in doc["findings"])
    assert [len(names) for names in stars] == ([] if exact else [PICKLED_MANY + 3])


def test_a_star_import_that_crashes_has_its_pickles_made_again(invoke, fake) -> None:
    files = dict(PICKLE_BREAKER)
    crash = 'if name == "Crash":\n                import os\n                os._exit(7)\n            '
    files["pkg/__init__.py"] = files["pkg/__init__.py"].replace(
        'if name == "Breaker":', crash + 'if name == "Breaker":', 1).replace(
        '__all__ = ["Breaker",', '__all__ = ["Crash", "Breaker",')
    fake.write(files)
    doc = document(invoke("-p", "pkg", "--no-cache", "check", "--format", "json"))
    assert {f["name"] for f in doc["findings"] if f["rule"] == "pickle-roundtrip"} == {"Widget"}
    failed = sorted(f["message"] for f in doc["findings"] if f["rule"] == "probe-failed")
    # Crash's own access, the star import and TAB completion; nothing about pickling.
    assert [message.rsplit(" while ", 1)[1] for message in failed] == [
        "accessing pkg.Crash.", "completing 'pkg.'.", "running 'from pkg import *'."], failed



def _comparable(doc: dict[str, Any]) -> Any:
    """A report without what varies from run to run (times, addresses)."""
    import re

    if isinstance(doc, dict):
        return {key: _comparable(value) for key, value in doc.items() if not key.endswith("_ms")}
    if isinstance(doc, list):
        return [_comparable(value) for value in doc]
    if isinstance(doc, str):
        return re.sub(r"\d+(\.\d+)? ?(ms|s)\b", "T", re.sub(r"0x[0-9a-f]+", "0x", doc))
    return doc


@pytest.mark.parametrize("wrong", [False, True], ids=["every-name-pickled", "a-name-is-a-module"])
def test_the_whole_package_probes_start_beside_the_predicting_child_and_change_nothing(
        invoke, fake, monkeypatch, wrong: bool) -> None:
    """Where check predicts, the star import's probe (with its pickles), TAB completion and the
    unpickle probe the star import leads to start beside the predicting child, on a guess; the
    stage that asks for exactly the guessed probe takes its run. The star import's probe gets the
    names to pickle once the prediction says which (a name that is a module, though no submodule
    on disk, is none): however they turn out, the report is the one made without guesses."""
    import threading

    from aoinspect import predicting
    from aoinspect.probing.session import ForkSession, Session

    files = dict(PICKLE_BREAKER)
    if wrong:
        files["pkg/__init__.py"] = files["pkg/__init__.py"].replace(
            'if name == "Breaker":', 'if name == "json":\n                return importlib.import_module("json")\n'
            '            if name == "Breaker":', 1).replace('__all__ = ["Breaker",', '__all__ = ["json", "Breaker",')
    fake.write(files)
    whole = {protocol.MODE_STAR, protocol.MODE_COMPLETE, protocol.MODE_UNPICKLE}
    started: list[tuple[str, str]] = []  # (mode, thread) of every probe sent to the fork server
    all_beside = threading.Event()
    run_one = ForkSession._run_one

    def recording(self: ForkSession, request: ProbeRequest, *args: Any, **kwargs: Any) -> ProbeRun:
        started.append((request.mode, threading.current_thread().name))
        if {mode for mode, thread in started if thread == "aoinspect-prefetch"} >= whole - {protocol.MODE_UNPICKLE}:
            all_beside.set()
        return run_one(self, request, *args, **kwargs)

    record = predicting.record_predictions

    def slow_child(*args: Any, **kwargs: Any) -> predicting.Predictions:
        all_beside.wait(60)  # the predicting child of a big package outlasts them all
        return record(*args, **kwargs)

    monkeypatch.setattr(ForkSession, "_run_one", recording)
    monkeypatch.setattr(predicting, "record_predictions", slow_child)
    guessed = document(invoke("-p", "pkg", "--no-cache", "--jobs", "2", "check", "--format", "json"))
    # The unpickle probe follows the star import's, which pickles once the prediction says what.
    assert {mode for mode, thread in started if thread == "aoinspect-prefetch"} == whole
    counts = {mode: [mode for mode, _thread in started].count(mode) for mode in whole}
    # Victim and Widget are pickled and unpickled again alone (test_pickling_shares_probes_...).
    assert counts == {protocol.MODE_STAR: 1, protocol.MODE_COMPLETE: 1, protocol.MODE_UNPICKLE: 1 + 2}
    monkeypatch.setattr(predicting, "record_predictions", record)
    monkeypatch.setattr(Session, "prefetch", lambda self, requests, then=None, own_lane=False: None)
    started.clear()
    asked = document(invoke("-p", "pkg", "--no-cache", "--jobs", "2", "check", "--format", "json"))
    assert not [mode for mode, thread in started if thread == "aoinspect-prefetch"]
    assert _comparable(guessed) == _comparable(asked)


def test_the_unpickle_probe_starts_once_the_prediction_is_in_and_is_adopted(invoke, fake, monkeypatch) -> None:
    """Where check predicts, the predicting child pickles every name as the star import's probe
    does: the unpickle probe starts on those pickles as soon as the star import's probe is sent its
    names, not once that probe has pickled them, and the stage that asks for it takes its run (no
    unpickle probe more than without the guess)."""
    import threading

    from aoinspect.probing.session import ForkSession, Session

    fake.write(PICKLE_BREAKER)
    events: list[tuple[str, str]] = []  # (mode, "start" or "end") of every probe sent to the fork server
    unpickling = threading.Event()
    run_one = ForkSession._run_one

    def recording(self: ForkSession, request: ProbeRequest, *args: Any, **kwargs: Any) -> ProbeRun:
        events.append((request.mode, "start"))
        if request.mode == protocol.MODE_UNPICKLE:
            unpickling.set()
        run = run_one(self, request, *args, **kwargs)
        if request.mode == protocol.MODE_STAR:
            unpickling.wait(30)  # the star import's probe ends only once the unpickle probe started
        events.append((request.mode, "end"))
        return run

    monkeypatch.setattr(ForkSession, "_run_one", recording)
    guessed = document(invoke("-p", "pkg", "--no-cache", "--jobs", "2", "check", "--format", "json"))
    assert events.index((protocol.MODE_UNPICKLE, "start")) < events.index((protocol.MODE_STAR, "end"))
    # Victim and Widget are unpickled again alone; the guess was the first unpickle probe.
    assert [mode for mode, when in events if when == "start"].count(protocol.MODE_UNPICKLE) == 1 + 2
    monkeypatch.setattr(ForkSession, "_run_one", run_one)
    monkeypatch.setattr(Session, "prefetch", lambda self, requests, then=None, own_lane=False: None)
    asked = document(invoke("-p", "pkg", "--no-cache", "--jobs", "2", "check", "--format", "json"))
    assert _comparable(guessed) == _comparable(asked)


PICKLE_DECOY = {
    "pkg/__init__.py": f"""
        import importlib

        __all__ = ["Decoy", *[f"C{{index}}" for index in range({PICKLED_MANY})]]


        def __dir__():
            return __all__


        def __getattr__(name):
            if name == "Decoy" or name.startswith("Decoy_"):
                from ._decoy import Decoy
                return Decoy
            if name in __all__:
                return getattr(importlib.import_module(f"._c{{int(name[1:]) % 3}}", __name__), name)
            raise AttributeError(name)
    """,
    "pkg/_decoy.py": """
        import os


        class Decoy:
            pass


        # Pickled under a name of the process's own, which pkg serves: other bytes in every process.
        Decoy.__module__, Decoy.__qualname__ = "pkg", f"Decoy_{os.getpid()}"
    """,
    **{f"pkg/_c{group}.py": "".join(f"class C{index}:\n    pass\n\n\n" for index in range(group, PICKLED_MANY, 3))
       for group in range(3)},
}


def test_an_unpickle_probe_guessed_from_pickles_that_differ_is_not_adopted(invoke, fake, monkeypatch) -> None:
    """A class that pickles to other bytes in every process: the unpickle probe guessed from the
    predicting child's pickles is not the one asked for, and is not taken; the report is the one
    made without guesses."""
    from aoinspect.probing.session import Session

    fake.write(PICKLE_DECOY)
    staged: list[tuple[str, ...]] = []  # the fields of the guesses made once a stage started
    adopted: list[tuple[str, ...]] = []  # ... and of the unpickle probes a stage took
    prefetch, adopt = Session.prefetch, Session._adopt

    def guessing(self: Session, requests: list[ProbeRequest], then: Any = None, own_lane: bool = False) -> None:
        staged.extend(tuple(request.names) for request in requests if own_lane)
        prefetch(self, requests, then, own_lane=own_lane)

    def adopting(self: Session, requests: list[ProbeRequest]) -> Any:
        taken = adopt(self, requests)
        adopted.extend(tuple(requests[index].names) for index in taken
                       if requests[index].mode == protocol.MODE_UNPICKLE)
        return taken

    asked: list[tuple[str, ...]] = []
    run = Session._run_or_adopt

    def asking(self: Session, requests: list[ProbeRequest]) -> Any:
        asked.extend(tuple(request.names) for request in requests if request.mode == protocol.MODE_UNPICKLE)
        return run(self, requests)

    monkeypatch.setattr(Session, "prefetch", guessing)
    monkeypatch.setattr(Session, "_adopt", adopting)
    monkeypatch.setattr(Session, "_run_or_adopt", asking)
    guessed = document(invoke("-p", "pkg", "--no-cache", "--jobs", "2", "check", "--format", "json"))
    (guess,) = staged
    decoy = next(field for field in guess if field.startswith("Decoy:"))
    assert asked and all(decoy not in fields for fields in asked)
    assert guess not in adopted and guess not in asked
    monkeypatch.setattr(Session, "prefetch", lambda self, requests, then=None, own_lane=False: None)
    unguessed = document(invoke("-p", "pkg", "--no-cache", "--jobs", "2", "check", "--format", "json"))
    assert _without_pids(_comparable(guessed)) == _without_pids(_comparable(unguessed))


def _without_pids(doc: Any) -> Any:
    """The decoy's name without the process it was made in."""
    import json
    import re

    return json.loads(re.sub(r"Decoy_\d+", "Decoy_PID", json.dumps(doc)))
