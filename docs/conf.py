"""Sphinx configuration of the skion documentation.

Build (warnings are errors)::

    python -m pip install ".[docs]"
    sphinx-build -W -b html docs docs/_build/html

The gallery (``examples/plot_*.py``) is executed during the build. Set
``SKION_DOCS_INTERSPHINX=1`` to link to the Python, NumPy, SciPy, pandas, Matplotlib
and scikit-learn documentation; it needs network access (see ``docs/contributing.md``).
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "sphinxext"))  # gallery_order

# Keep TensorFlow quiet and Matplotlib headless while the gallery runs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import skion  # noqa: E402

# -- Project -----------------------------------------------------------------------------
project = "skion"
author = "skion developers"
copyright = "skion developers"
release = skion.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
# _static/*.md: tables written by the benchmark scripts (--out), included in no page
exclude_patterns = [
    "_build",
    "**.ipynb_checkpoints",
    "auto_examples/*.md",
    "sphinxext",
    "_static/*.md",
]
default_role = "py:obj"  # `name` in reST docstrings links to the object when it exists

# -- MyST (the hand-written pages are Markdown) ------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3  # [text](page.md#a-heading) links resolve

# -- autodoc / autosummary / numpydoc ----------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "member-order": "groupwise"}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- Intersphinx -------------------------------------------------------------------------
# Inventories are fetched over the network. The reference build runs offline (only the
# package index is reachable), where a failed fetch is a warning and so, under -W, an
# error; Sphinx offers no way to silence just that warning. Links to other projects'
# API pages are therefore opt-in: references to them render as plain code otherwise.
# Keras and TensorFlow publish no Sphinx inventory, so keras.io is linked from prose.
intersphinx_mapping = {}
if os.environ.get("SKION_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "pandas": ("https://pandas.pydata.org/docs", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }
intersphinx_timeout = 10

# -- sphinx-gallery ----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every plot_*.py is executed at build time
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("skion",),
    "reference_url": {"skion": None},  # link names in code blocks to the API pages
    "backreferences_dir": "generated/backreferences",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
}

# -- HTML --------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skion {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "getting_started": [], "changelog": []}
html_static_path = []
html_show_sourcelink = True


# -- Hooks -------------------------------------------------------------------------------
def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out scikit-learn's ``set_*_request`` methods (metadata routing plumbing,
    generated per estimator and documented in scikit-learn's user guide)."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
