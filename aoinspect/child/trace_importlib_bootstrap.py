"""Entry point of ``aoinspect trace``'s child:
``python [OPTIONS] .../trace_importlib_bootstrap.py RESULT_PATH PROJECTS PROGRAM...``, PROJECTS
the ``--project`` directories joined with ``os.pathsep`` (empty: none).

Run as a script, not with ``-c``, for its name: it holds "importlib" and "_bootstrap", and the
warnings machinery skips such frames (the import system's) when it walks a ``stacklevel`` up
the stack. So this frame, at the bottom of the stack below the program, is as absent to it as
in ``python PROGRAM``, where nothing is below the program: a warning with a ``stacklevel`` past
the program's frame is attributed to ``sys``, not to a ``-c`` in ``__main__``. ``tracer.run``
undoes what running a script did that the program's own start would not (``sys.path[0]``,
``__main__``'s names).

This file executes in ``__main__``'s namespace, which the program must find as fresh as under
plain ``python``; so it only loads ``tracer.py`` as a module object of its own (never put in
``sys.modules``) and hands over. ``tracer.run`` empties ``__main__`` before the program starts,
and nothing here runs after it returns.
"""

import sys


def __code_of__(path, name):
    """The code of a child file, as the import system gets a module's: from its ``__pycache__``
    file when that matches the source, else compiled (and cached for the next run unless -B says
    not to). Compiling the tracer and its siblings was most of what tracing a short program cost.
    Under -v the loader would say so on stderr, which is the program's: compiled then."""
    if sys.flags.verbose:
        with open(path, "rb") as stream:
            return compile(stream.read(), path, "exec")
    return sys.modules["_frozen_importlib_external"].SourceFileLoader(name, path).get_code(name)


__tracer_path__ = __file__[: max(__file__.rfind("/"), __file__.rfind("\\")) + 1] + "tracer.py"
__tracer_code__ = __code_of__(__tracer_path__, "aoinspect_child_tracer")
__tracer_module__ = type(sys)("aoinspect_child_tracer")
__tracer_module__.__file__ = __tracer_path__
__tracer_module__.code_of_child_file = __code_of__
# Builtins of its own: a program that replaces builtins.list, type or str (its right) must not
# break the tracer, which runs after it (at every import, and when the program ends).
__tracer_module__.__builtins__ = dict(vars(sys.modules["builtins"]))
exec(__tracer_code__, __tracer_module__.__dict__)
__tracer_module__.run(sys.argv[1], sys.argv[3:], __tracer_module__.split_projects(sys.argv[2]))
