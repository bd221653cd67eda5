"""aoinspect: what does this import actually load, and why?

Measures, in fresh child interpreters, which modules each attribute access of a lazy
(PEP 562) package materializes, and checks the lazy-import contract.
"""

# Kept equal to pyproject.toml's version by tests/test_cli.py: ``aoinspect --version`` reads no metadata.
__version__ = "0.1.0"

# Where the documentation lives: the docs/ folder of the repository, until a site is published
# (OWNER as in the README's pre-commit snippet: the repository's public home is not chosen yet).
# The one place to change: SARIF's helpUri and every link to a rule's page are built from it
# (aoinspect.rules.docs.rule_url).
DOCS_URL = "https://github.com/OWNER/aoinspect/blob/main/docs"
