"""The keeper every child runs under, and the parent-signal guard of any process that waits for
a fork running package code (child code: ``__init__.py`` says its rules).

aoinspect starts each child, so a package that signals its parent (``os.kill(os.getppid(),
SIGTERM)``) would end aoinspect itself, which cannot tell such a signal from a CI runner's. So
every child (``measure.py``, ``graph.py``, ``defer.py``, ``observe.py``) first calls ``below``:
the process aoinspect started stays behind as a keeper that ignores those signals and ends as the
child ended, and the child goes on in a fork that is still exactly a fresh ``python -c`` (nothing
of the package has run). A process that forks package code and waits for it (measure.py's
monitors, defer.py's scenarios) uses ``ignore_parent_signals``/``restore_handlers`` alike.

Every function here is taken before any package code runs: a package may replace ``os.fork``,
``os.kill``, ``os._exit``... with anything.
"""

import sys

_modules = sys.modules
_os = _modules.get("os") or _modules.get("posix") or _modules.get("nt")
_signal_module = _modules.get("_signal")


def _bound(module, name):
    return getattr(module, name, None)


_fork = _bound(_os, "fork")
_waitpid = _bound(_os, "waitpid")
_exit_code = _bound(_os, "waitstatus_to_exitcode")
_close = _bound(_os, "close")
_listdir = _bound(_os, "listdir")
_exit = _bound(_os, "_exit")
_kill = _bound(_os, "kill")
_getpid = _bound(_os, "getpid")
_set_handler = _bound(_signal_module, "signal")
_SIG_IGN = _bound(_signal_module, "SIG_IGN")
_SIG_DFL = _bound(_signal_module, "SIG_DFL")
_setitimer = _bound(_signal_module, "setitimer")
_ITIMER_REAL = _bound(_signal_module, "ITIMER_REAL")
_SIGALRM = _bound(_signal_module, "SIGALRM")
# The signal a keeper sends its child at the child's stop time (``below(stop_after=...)``): a
# real-time signal no program takes over by accident, as it might SIGALRM. None: no keeper stops.
STOP_SIGNAL = _bound(_signal_module, "SIGRTMIN")
if STOP_SIGNAL is None and sys.platform.startswith("linux"):
    STOP_SIGNAL = 34  # glibc's SIGRTMIN; _signal names it from 3.11 on
if STOP_SIGNAL is not None:
    STOP_SIGNAL += 3
# Signals that end a process by default and that a child may send its parent (``os.getppid()``):
# that parent is a keeper or a process waiting for the child; either must live to report how
# the child ended, and neither is aoinspect.
PARENT_SIGNALS = tuple(
    number for number in (_bound(_signal_module, name)
                          for name in ("SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2"))
    if number is not None
)


def ignore_parent_signals():
    """Ignore what a forked child may send its parent; returns the dispositions to give back to
    the child (``restore_handlers``)."""
    saved = []
    for number in PARENT_SIGNALS:
        try:
            saved.append((number, _set_handler(number, _SIG_IGN)))
        except BaseException:  # noqa: BLE001
            pass
    return saved


def ignore_signal(number):
    try:
        _set_handler(number, _SIG_IGN)
    except BaseException:  # noqa: BLE001
        pass


def restore_handlers(saved):
    for number, handler in saved:
        try:
            _set_handler(number, handler)
        except BaseException:  # noqa: BLE001
            pass


def below(fork=None, stop_after=0.0):
    """Go on in a forked copy of this process (``fork``: the caller's own way to fork, default
    ``os.fork``); this process stays behind as its keeper (``keep``) and never returns. Without
    fork (or if it fails), return False and run as the child, unkept; True in the child.
    ``stop_after`` (seconds, 0: never): the keeper sends the child STOP_SIGNAL then, whatever the
    child's program did to its own timers and SIGALRM."""
    fork = fork or _fork
    if fork is None or _waitpid is None or _exit_code is None or _exit is None:
        return False
    handlers = ignore_parent_signals()
    try:
        child = fork()
    except BaseException:  # noqa: BLE001 - no keeper, then: run as the child
        restore_handlers(handlers)
        return False
    if child == 0:
        restore_handlers(handlers)
        return True
    if stop_after > 0:
        _stop_later(child, stop_after)
    keep(child)
    return False  # never reached: keep ends the process


def _stop_later(child, seconds):
    def on_alarm(number, frame):
        try:
            _kill(child, STOP_SIGNAL)
        except BaseException:  # noqa: BLE001 - it has ended already
            pass

    if STOP_SIGNAL is None or _setitimer is None or _SIGALRM is None:
        return
    try:
        _set_handler(_SIGALRM, on_alarm)
        _setitimer(_ITIMER_REAL, seconds)
    except BaseException:  # noqa: BLE001 - no timers: the parent's deadline alone
        pass


def keep(child):
    """The keeper: hold no descriptor beyond 0-2 (one aoinspect watches for the child's end must
    close when the child ends), wait for the child, then end as it ended: the same exit status,
    or killed by the same signal (with no core dump of its own)."""
    try:
        descriptors = [int(name) for name in _listdir("/proc/self/fd")]
    except BaseException:  # noqa: BLE001 - no /proc: the few a child is ever given
        descriptors = list(range(3, 256))
    for descriptor in descriptors:
        if descriptor > 2:
            try:
                _close(descriptor)
            except BaseException:  # noqa: BLE001 - the directory listing's own, already closed
                pass
    code = 1
    try:
        while True:
            try:
                code = _exit_code(_waitpid(child, 0)[1])
                break
            except InterruptedError:
                continue
        if code < 0:
            end_by_signal(-code)
    finally:
        _exit(code if code >= 0 else 128 - code)


def end_by_signal(number):
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except BaseException:  # noqa: BLE001
        pass
    try:
        _set_handler(number, _SIG_DFL)
    except BaseException:  # noqa: BLE001 - SIGKILL, SIGSTOP
        pass
    _kill(_getpid(), number)
