"""Warnings skion emits on its own account (filter them with :mod:`warnings`)."""

from __future__ import annotations

__all__ = ["AmbiguousFitWarning", "CorrelatedNoiseWarning", "RigMismatchWarning"]


class RigMismatchWarning(UserWarning):
    """A recording differs from those a model was trained on.

    Raised when a recording shows more channels than any training recording, noise
    (relative to its unitary current) outside the trained range, or a calibration that
    disagrees with its labels. The result is still computed, but it is an extrapolation:
    check it, or train on recordings like this one.

    Examples
    --------
    >>> import warnings
    >>> from skion.exceptions import RigMismatchWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", RigMismatchWarning)  # make it an error
    ...     pass
    """


class AmbiguousFitWarning(UserWarning):
    """A fit without labels made a choice that the recording barely supports.

    Raised by :class:`~skion.hmm.AggregatedHMM` when the two readings of the current's
    direction (every count ``k`` read as ``N - k``, the unitary current's sign reversed)
    explain the recordings almost equally well: only the kinetics tell them apart, and a
    short recording of slow channels shows few transitions. The fit keeps the likelier
    reading; give ``current_sign`` (or ``unitary_current``) where the direction is known.
    Raised too where the fitted channels jump by several levels at once far more often
    than independent channels at their rates would (its levels are closer than the
    channels' own, slow noise read as openings of smaller channels, or the channels do
    not open independently), and where the channel count stops at ``max_channels`` while
    a recording visits levels above it.

    Examples
    --------
    >>> import warnings
    >>> from skion.exceptions import AmbiguousFitWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", AmbiguousFitWarning)  # make it an error
    ...     pass
    """


class CorrelatedNoiseWarning(UserWarning):
    """A fit's noise is not white, as its model assumes.

    Raised by :class:`~skion.hmm.AggregatedHMM` when the residual of its fit (the
    current minus the fitted levels and baseline) still holds noise slower than a
    quarter of ``baseline_window``: 1/f noise, or a drift faster than the baseline
    follows. A model with white noise reads such noise as transitions: stretches of the
    recording may be read a count off, and without labels the likelier channel count and
    direction of the current may be the ones that absorb the noise. Check the fit
    (plot it on the current), or use a model that does not assume white noise (a U-Net
    trained on labelled recordings of the rig).

    Examples
    --------
    >>> import warnings
    >>> from skion.exceptions import CorrelatedNoiseWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", CorrelatedNoiseWarning)  # make it an error
    ...     pass
    """
