"""The commands of ``aoinspect``'s Click group, one module per family: ``package`` (list, resolve,
check, snapshot), ``reports`` (diff, render, rule) and ``trace``, all built from ``path``, the one
command path. Each parses its options, calls the engine or ``tracing``, renders, and exits. The
group (``aoinspect.cli``) imports a module only when one of its commands is needed; they sit
above ``completion``, ``progress``, ``render``, the engine and ``tracing`` in the layers
``pyproject.toml`` declares."""
