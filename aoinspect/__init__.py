"""aoinspect: what does this import actually load, and why?

Measures, in fresh child interpreters, which modules each attribute access of a lazy
(PEP 562) package materializes, and checks the lazy-import contract.
"""

# Kept equal to pyproject.toml's version by tests/test_cli.py: ``aoinspect --version`` reads no metadata.
__version__ = "0.1.0"
