"""From idealized traces to kinetics: events, open probability, dwell-time fits, bursts.

Pure NumPy, SciPy and pandas (no TensorFlow): works on the labels of any skion model, of
``skion idealize`` and ``skion predict``, or of another program; writes the event files
of QuB and of SCAN/HJCFIT.
"""

from ._bursts import bursts, critical_time
from ._events import dwell_times
from ._exponentials import ExponentialFit, fit_exponentials, select_components
from ._histogram import dwell_histogram, plot_dwell_histogram
from ._open_probability import open_probability
from ._qub import read_dwt, write_dwt
from ._resolution import impose_resolution
from ._scan import write_scn

__all__ = [
    "ExponentialFit",
    "bursts",
    "critical_time",
    "dwell_histogram",
    "dwell_times",
    "fit_exponentials",
    "impose_resolution",
    "open_probability",
    "plot_dwell_histogram",
    "read_dwt",
    "select_components",
    "write_dwt",
    "write_scn",
]
