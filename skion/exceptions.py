"""Warnings skion emits on its own account (filter them with :mod:`warnings`)."""

from __future__ import annotations

__all__ = ["AmbiguousFitWarning", "RigMismatchWarning"]


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

    Examples
    --------
    >>> import warnings
    >>> from skion.exceptions import AmbiguousFitWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", AmbiguousFitWarning)  # make it an error
    ...     pass
    """
