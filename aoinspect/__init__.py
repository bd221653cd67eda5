"""aoinspect: what does this import actually load, and why?

Measures, in fresh child interpreters, which modules each attribute access of a lazy
(PEP 562) package materializes, and checks the lazy-import contract.
"""
