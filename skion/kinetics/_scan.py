"""SCAN's interval files (.scn), which HJCFIT and the DCPROGS programs read."""

from __future__ import annotations

import os
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from .._strict import validate_params
from .._version import __version__
from ._event_table import check_events, check_unitary_current

__all__ = ["write_scn"]

#: Amplitudes are stored as 16-bit integers; one channel is this many of them.
_UNITS_PER_CHANNEL = 1000


@validate_params(
    {
        "events": [pd.DataFrame],
        "path": [str, os.PathLike],
        "unitary_current": [Interval(Real, None, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def write_scn(events, path, *, unitary_current=1.0) -> None:
    """Write the events of one recording as a SCAN interval file (.scn) for HJCFIT.

    The file is SCAN's "simulated" layout (version -103), which HJCFIT, DCPYPS and
    the other DCPROGS programs read: every event is an interval with its duration
    (ms, 32-bit float), its amplitude (``level * unitary_current`` pA; 0 is shut)
    and its flags. Censored events (the first and last of the recording) are flagged
    unusable (8), so that no program takes their cut durations for dwell times. The
    file is written with the ``dcio`` package of DCPROGS (extra ``scan``).

    Impose the resolution first (:func:`impose_resolution`), as SCAN does before
    writing its files, and give HJCFIT the same ``t_res``.

    Parameters
    ----------
    events : pandas.DataFrame
        Events of one recording, from :func:`dwell_times` or
        :func:`impose_resolution` (select one with ``events[events.recording == r]``).
    path : str or path-like
        File to write (replaced if it exists).
    unitary_current : float, default=1.0
        Current of one open channel (pA); its sign is kept.

    See Also
    --------
    write_dwt : QuB's dwell-time file, which holds several recordings.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from dcio.formats.scn import read
    >>> from skion.kinetics import dwell_times, write_scn
    >>> events = dwell_times([0, 0, 1, 1, 1, 0, 0, 0], sampling_rate=10_000)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.scn"
    >>> write_scn(events, path, unitary_current=-2.5)
    >>> record = read(path)
    >>> (record.intervals * 1e3).round(3).tolist(), record.amplitudes.round(3).tolist()
    ([0.2, 0.3, 0.3], [0.0, -2.5, 0.0])
    >>> record.flags.tolist()  # the censored first and last intervals are unusable
    [8, 0, 8]
    """
    try:
        from dcio.formats.scn import FLAG_UNUSABLE
        from dcio.formats.scn import write as write_scan_file
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("write_scn needs DCPROGS' dcio: pip install 'skion[scan]'.") from error
    check_events(events)
    check_unitary_current(unitary_current)
    if events.empty:
        raise ValueError("events is empty: there is nothing to write.")
    if events["recording"].nunique() > 1:
        raise ValueError(
            "a SCAN file holds one recording; write one file per recording "
            "(events[events['recording'] == r])."
        )
    level = events["level"].to_numpy().astype(np.int64)
    if level.max() * _UNITS_PER_CHANNEL > np.iinfo(np.int16).max:
        raise ValueError(
            f"events reach {level.max()} open channels; a SCAN file stores at most "
            f"{np.iinfo(np.int16).max // _UNITS_PER_CHANNEL}."
        )
    flags = np.where(events["censored"].to_numpy(), FLAG_UNUSABLE, 0).astype(np.int8)
    write_scan_file(
        path,
        events["duration"].to_numpy(dtype=np.float64),
        level * _UNITS_PER_CHANNEL * np.sign(unitary_current),
        flags,
        calfac=abs(unitary_current) / _UNITS_PER_CHANNEL,  # pA per stored unit
        title=f"skion {__version__}",
    )
