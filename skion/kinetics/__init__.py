"""From idealized traces to kinetics: events, open probability, dwell-time fits.

Pure NumPy and pandas (no TensorFlow): works on the labels of any skion model, of
``skion idealize`` and ``skion predict``, or of another program.
"""

from ._events import dwell_times
from ._exponentials import ExponentialFit, fit_exponentials, select_components
from ._open_probability import open_probability
from ._resolution import impose_resolution

__all__ = [
    "ExponentialFit",
    "dwell_times",
    "fit_exponentials",
    "impose_resolution",
    "open_probability",
    "select_components",
]
