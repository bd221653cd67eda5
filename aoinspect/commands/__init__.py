"""The commands of ``aoinspect``'s Click group that live outside ``cli.py``: each parses its
options, calls the engine or ``tracing``, renders, and exits. ``cli.py`` adds them to the group;
they sit above ``render``, the engine and ``tracing`` in the layers ``pyproject.toml`` declares."""
