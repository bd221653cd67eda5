"""``aoinspect trace``: run a real program under the import tracer (``aoinspect/child/tracer.py``)
and say which line of it triggered each module load, through which lazy hop, at what cost.

``program.py`` parses PROGRAM as ``python`` takes it; ``run.py`` starts and waits for the child;
``report.py`` turns its sections into a ``TraceReport`` (``models.py``), reading source lines and
distributions in the parent so that the child stays cheap; ``pytest_trace.py`` is the pytest
plugin's ``--aoinspect-trace``.

Trace has one part in each layer, and each sits with its layer's other code: the command in
``aoinspect/commands/trace.py``, its renderers in ``aoinspect/render/trace.py``, this package in
the middle, and the child's side in ``aoinspect/child/`` (``trace.py`` the entry point the
bootstrap runs, ``tracer.py`` the tracer).
"""
