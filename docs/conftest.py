"""pytest collection in docs/: the Markdown pages' doctests, not Sphinx's files.

``conf.py`` and the gallery sorting helper import Sphinx packages (extra ``docs``), and
``auto_examples/`` holds sphinx-gallery's executable copies of ``examples/``.
"""

collect_ignore = ["conf.py"]
collect_ignore_glob = ["sphinxext/*", "_build/*", "auto_examples/*", "generated/*"]
