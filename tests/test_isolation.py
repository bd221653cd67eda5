"""Fork server and spawning give identical results; fork falls back where it is unsafe."""

from __future__ import annotations

import importlib.util

import pytest

from aoinspect.diff import FindingRef
from tests.helpers import document
from tests.packages import INTERDEPENDENT, RULE_BREAKERS, lazy_package


def modules_by_name(doc: dict) -> dict[str, list[str]]:  # type: ignore[type-arg]
    return {result["name"]: sorted(load["module"] for load in result["materialized"]) for result in doc["results"]}


@pytest.mark.probe
@pytest.mark.parametrize(
    ("package", "names", "files"),
    [
        ("ao", ["quantization", "nn", "ns", "pruning", "nn.quantized", "nn.qat"], {}),
        ("tangle", ["left", "right", "solo"], INTERDEPENDENT),
    ],
)
def test_fork_and_spawn_report_identical_module_sets(invoke, fake, package, names, files) -> None:
    fake.write(files)
    forked = document(invoke("-p", package, "--isolation", "fork", "resolve", *names, "--format", "json"))
    spawned = document(invoke("-p", package, "--isolation", "spawn", "resolve", *names, "--format", "json"))
    assert forked["isolation"]["mode"] == "fork"
    assert spawned["isolation"]["mode"] == "spawn"
    assert modules_by_name(forked) == modules_by_name(spawned)
    imported = [sorted(load["module"] for load in doc["import"]["materialized"]) for doc in (forked, spawned)]
    assert imported[0] == imported[1]
    for one, other in zip(forked["results"], spawned["results"]):
        assert [load["parent"] for load in one["materialized"]] == [load["parent"] for load in other["materialized"]]
        assert (one["via_getattr"], one["cached"]) == (other["via_getattr"], other["cached"])


@pytest.mark.probe
def test_check_findings_are_the_same_under_both(invoke, fake) -> None:
    fake.write(RULE_BREAKERS["eager-import"] | {"other/__init__.py": ""})
    forked = document(invoke("-p", "pkg", "--isolation", "fork", "check", "--format", "json"))
    spawned = document(invoke("-p", "pkg", "--isolation", "spawn", "check", "--format", "json"))
    # Times in messages (completion-loads, dir-loads) change from run to run, as aoinspect diff knows.
    assert [FindingRef(**finding).key for finding in forked["findings"]] == [
        FindingRef(**finding).key for finding in spawned["findings"]
    ]


@pytest.mark.probe
def test_python_threads_after_import_fall_back_to_spawn(invoke, fake) -> None:
    fake.write(lazy_package("pkg", init=lazy_package("pkg")["pkg/__init__.py"] + (
        "\nimport threading, time\nthreading.Thread(target=time.sleep, args=(1000,), daemon=True).start()\n"
    )))
    doc = document(invoke("-p", "pkg", "resolve", "alpha", "beta", "--format", "json"))
    assert doc["isolation"]["mode"] == "spawn"
    assert "left 1 Python thread(s) running" in doc["isolation"]["reason"]
    assert doc["results"][0]["ok"] is True


@pytest.mark.probe
def test_a_signal_in_a_forked_probe_is_measured_again_in_a_fresh_interpreter(invoke, fake) -> None:
    init = lazy_package("pkg")["pkg/__init__.py"] + "\nimport os\nIMPORTED_IN = os.getpid()\n"
    beta = "import os, signal, pkg\nif os.getpid() != pkg.IMPORTED_IN:\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
    fake.write(lazy_package("pkg", init=init, beta=beta))
    result = invoke("-p", "pkg", "--isolation", "fork", "resolve", "beta", "--format", "json")
    assert result.exit_code == 0
    (entry,) = document(result)["results"]
    assert entry["ok"] is True
    assert "was killed by SIGSEGV; measured again in a fresh interpreter" in entry["retried"]


@pytest.mark.real
def test_native_threads_do_not_disable_the_fork_server(invoke) -> None:
    if importlib.util.find_spec("numpy") is None:
        pytest.skip("numpy is not installed")
    doc = document(invoke("-p", "numpy", "resolve", "polynomial", "fft", "--format", "json"))
    assert doc["isolation"]["mode"] == "fork"
    assert doc["isolation"]["python_threads"] == 1
    assert doc["isolation"]["native_threads"] >= 1
    assert doc["results"][0]["ok"]


def test_a_single_probe_is_spawned_unless_fork_is_asked_for(invoke) -> None:
    assert document(invoke("resolve", "nn", "--format", "json"))["isolation"]["mode"] == "spawn"
    assert document(invoke("--isolation", "fork", "resolve", "nn", "--format", "json"))["isolation"]["mode"] == "fork"


def test_the_import_is_measured_once_under_fork(invoke) -> None:
    doc = document(invoke("resolve", "nn", "ns", "--format", "json"))
    assert doc["isolation"]["mode"] == "fork"
    assert doc["import"]["repeats"] == 1


@pytest.mark.probe
def test_forking_beside_native_threads_leaves_the_server_unchanged(invoke, fake) -> None:
    """From 3.12 on, fork() in a process with other threads warns; on 3.13 showing that warning
    imports ``warnings`` into the server, which would hide it from every probe forked later.
    faulthandler's watchdog is a native thread, like OpenBLAS's: the server still forks."""
    init = """
        import faulthandler
        faulthandler.dump_traceback_later(1000)

        def __getattr__(name):  # no typing, no importlib: they load warnings on some versions
            if name in ("alpha", "beta"):
                __import__(__name__ + "." + name)
                return globals()[name]
            raise AttributeError(name)
    """
    beta = "import warnings\nimport __main__\nREGISTRY = hasattr(__main__, '__warningregistry__')\n"
    fake.write(lazy_package("pkg", init=init, beta=beta))
    names = ["alpha", "beta", "beta.REGISTRY"]
    forked = document(invoke("-p", "pkg", "-j", "1", "--isolation", "fork", "resolve", *names, "--format", "json"))
    spawned = document(invoke("-p", "pkg", "--isolation", "spawn", "resolve", *names, "--format", "json"))
    assert forked["isolation"]["mode"] == "fork" and forked["isolation"]["native_threads"] >= 2
    assert modules_by_name(forked) == modules_by_name(spawned)
    assert "warnings" in modules_by_name(forked)["beta"]
    assert forked["results"][2]["object"]["repr"] == "False"
