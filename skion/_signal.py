"""The range a recorded signal may span: its squares must stay inside float64."""

from __future__ import annotations

import numpy as np

__all__ = ["check_signal_range"]

#: Largest magnitude accepted: squares (variances, Gaussian log-densities) of larger values
#: overflow float64 (about 1.8e308) once summed over a recording.
LARGEST = 1e150

#: Smallest non-zero spread accepted: squared deviations of a signal that varies by less
#: underflow to zero, and every variance with them.
SMALLEST_SPREAD = 1e-150


#: Largest magnitude a float32 network accepts: its batch normalisation squares the
#: activations, and float32 overflows at about 3.4e38. Also the bound on the generators'
#: currents, which are float32: a signal no skion model accepts is no use as test data.
LARGEST_FLOAT32 = 1e15


def check_signal_range(X, *, largest=LARGEST, dtype="float64"):
    """Refuse a finite signal whose squares overflow or underflow float64.

    Variances and Gaussian log-densities square the signal; beyond these bounds they
    become inf or 0 and every result after them NaN. No current (pA) or conductance (pS)
    comes near either bound, so reaching one means the values are in a wrong unit or
    corrupt. A constant signal (spread 0) is left to the estimator, which says what it
    cannot do with it.

    >>> import numpy as np
    >>> check_signal_range(np.array([[1e200], [0.0]]))
    Traceback (most recent call last):
    ...
    ValueError: X holds values up to 1e+200 in magnitude; ...
    """
    if X.size == 0:
        return X
    peak = float(np.max(np.abs(X)))
    if peak > largest:
        raise ValueError(
            f"X holds values up to {peak:.3g} in magnitude; beyond {largest:g} their "
            f"squares overflow {dtype}. Rescale the signal: skion expects a current in pA "
            "or a conductance in pS."
        )
    spread = float(np.max(X) - np.min(X))
    if 0.0 < spread < SMALLEST_SPREAD:
        raise ValueError(
            f"X varies by only {spread:.3g}; below {SMALLEST_SPREAD:g} its squared "
            "deviations underflow float64 to zero. Rescale the signal: skion expects a "
            "current in pA or a conductance in pS."
        )
    return X
