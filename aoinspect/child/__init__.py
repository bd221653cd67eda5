"""Code that runs inside the inspected interpreter, apart from everything else.

The CLI never imports these files to run them; it hands them to a child interpreter
(``python -c BOOTSTRAP measure.py ...``, see ``aoinspect.probing.runner``), which may be another
Python chosen with ``--python``, with no aoinspect and no Click installed. So every file here
keeps these rules, and ``tests/test_child.py`` holds them to it:

* Standard library only, and valid on Python 3.9 and newer.
* At module level, import nothing that a bare ``python -c`` has not already loaded (not even
  ``__future__`` or ``typing``): the measurement is a ``sys.modules`` diff, and the probe's own
  imports would show up in it.
* Import nothing of the parent: siblings are loaded with ``measure._sibling`` (read, compile,
  exec into a fresh module object that is never put in ``sys.modules``).
* Never write to file descriptors 1 or 2: they belong to the inspected package.
* Stay out of the warnings machinery's sight: every code object of the child is renamed to
  ``protocol.hidden_name(path)``, which it skips as it skips the import system's frames, so that
  a package's warning is attributed to the frame ``python -c`` or ``python script.py`` has.

The parent may import constants from ``protocol.py`` (the wire vocabulary); that module holds
constants and pure functions only, so importing it runs nothing.
"""
