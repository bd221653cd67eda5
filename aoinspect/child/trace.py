"""Entry point of ``aoinspect trace``'s child: ``python -c BOOTSTRAP trace.py RESULT_PATH PROGRAM...``.

The bootstrap executes this file in ``__main__``'s namespace, which the program must find as
fresh as under plain ``python``; so this file only loads ``tracer.py`` as a module object of its
own (never put in ``sys.modules``) and hands over. ``tracer.run`` empties ``__main__`` before the
program starts, and nothing here runs after it returns.
"""

import sys

with open(sys.argv[1][: max(sys.argv[1].rfind("/"), sys.argv[1].rfind("\\")) + 1] + "tracer.py", "rb") as __file:
    __tracer_code__ = compile(__file.read(), __file.name, "exec")
__tracer_module__ = type(sys)("aoinspect_child_tracer")
__tracer_module__.__file__ = __tracer_code__.co_filename
# Builtins of its own: a program that replaces builtins.list, type or str (its right) must not
# break the tracer, which runs after it (at every import, and when the program ends).
__tracer_module__.__builtins__ = dict(vars(sys.modules["builtins"]))
exec(__tracer_code__, __tracer_module__.__dict__)
__tracer_module__.run(sys.argv[2], sys.argv[3:])
