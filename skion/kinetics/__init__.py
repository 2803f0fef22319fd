"""From idealized traces to kinetics: events, dwell times and open probability.

Pure NumPy and pandas (no TensorFlow): works on the labels of any skion model, of
``skion idealize`` and ``skion predict``, or of another program.
"""

from ._events import dwell_times
from ._open_probability import open_probability

__all__ = ["dwell_times", "open_probability"]
