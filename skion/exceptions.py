"""Warnings skion emits on its own account (filter them with :mod:`warnings`)."""

from __future__ import annotations

__all__ = ["RigMismatchWarning"]


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
