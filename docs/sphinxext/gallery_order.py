"""Order of the gallery examples: the path a new user takes, then any others by name.

A new ``examples/plot_*.py`` needs no entry here; it is listed after the ones named
below, in file-name order.
"""

from pathlib import Path

from sphinx_gallery.sorting import FileNameSortKey

FIRST = (
    "plot_quickstart.py",
    "plot_compare_models.py",
    "plot_class_weights.py",
    "plot_transfer_learning.py",
    "plot_visualize_predictions.py",
    "plot_read_abf.py",
)


class ExampleOrder(FileNameSortKey):
    """Sort key: the examples of ``FIRST`` in that order, then the rest by file name."""

    def __call__(self, filename):
        name = Path(filename).name
        rank = FIRST.index(name) if name in FIRST else len(FIRST)
        return (rank, name)
