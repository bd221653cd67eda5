"""``aoinspect trace``: run a real program under the import tracer (``aoinspect/child/tracer.py``)
and say which line of it triggered each module load, through which lazy hop, at what cost.

``program.py`` parses PROGRAM as ``python`` takes it; ``run.py`` starts and waits for the child;
``report.py`` turns its sections into a ``TraceReport`` (``models.py``), reading source lines and
distributions in the parent so that the child stays cheap.
"""
