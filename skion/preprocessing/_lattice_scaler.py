"""LatticeScaler: the current in open-channel units, calibrated per recording without labels."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._requests import RecordingRequestsMixin
from .._signal import check_signal_range
from .._strict import StrictParamsMixin
from ..exceptions import AmbiguousFitWarning, CorrelatedNoiseWarning, RigMismatchWarning
from ..windowing import Recordings
from ._cleaning import check_below_nyquist
from ._lattice import check_counts, within_block_step
from ._recordings import RecordingTransformerMixin

__all__ = ["LatticeScaler"]

#: A recording's noise (in unitary steps) may exceed the noisiest training recording's by
#: this factor, or fall below the quietest one's by its inverse, before a warning.
_NOISE_TOLERANCE = 1.25
#: A label-free calibration whose rounded units match the labels on this fraction of the
#: rows fewer than the labels' own calibration does is reported as disagreeing.
_AGREEMENT_SLACK = 0.05
#: Warnings of a recording's calibration fit that are said again with the recording named.
_NAMED_WARNINGS = (AmbiguousFitWarning, CorrelatedNoiseWarning)
#: Columns of ``recordings_`` (and of ``calibrate``'s table).
_COLUMNS = [
    "start",
    "stop",
    "unitary_current",
    "closed_level",
    "noise_ratio",
    "n_channels",
    "filter_cutoff",
]


class LatticeScaler(
    StrictParamsMixin,
    RecordingRequestsMixin,
    OneToOneFeatureMixin,
    RecordingTransformerMixin,
    BaseEstimator,
):
    """Express the current in open-channel units, each recording calibrated without labels.

    Another rig records the same channels with another unitary current (size and sign),
    offset, drift and noise. A model trained on raw currents, or on currents cleaned with
    one lattice learned from training labels (:class:`LatticeDetrender`), fails there.
    This transformer calibrates **every recording on its own, without labels**: it fits
    an :class:`~skion.AggregatedHMM` to the recording's first ``calibration_rows`` rows
    (unitary current with its sign, channels, noise, closed level), tracks the
    recording's baseline (drift and line hum) over all its rows, and replaces the
    current (column 0) by::

        (current - baseline) / unitary_current

    so that ``k`` open channels read about ``k`` on every rig. A model trained after it
    therefore transfers between rigs whose recordings share the kinetics and the noise
    relative to the step. ``fit`` records the conditions it was trained on
    (``recordings_``); ``transform`` warns (:class:`~skion.exceptions.RigMismatchWarning`)
    when a recording shows more channels or noise outside that range, and raises a
    ``ValueError`` naming the recording when it shows no lattice of equally spaced levels
    (a whole-cell current, a voltage trace, a flat recording).

    With labels, the training rows that ``fit_transform`` returns are calibrated from
    the labels (the step from the current's covariance with the counts, the baseline a
    moving mean of the current less the channels), so that a model never trains on
    misread counts; ``fit`` compares every label-free calibration with them and warns
    about a recording where it disagrees (an all-closed level never visited and placed
    one channel off, or drift mistaken for gating): unlabelled recordings like it may be
    misread the same way.

    Parameters
    ----------
    sampling_rate : float, default=10_000.0
        Samples per second (Hz).
    line_freq : float, default=None
        Mains frequency (Hz) of line hum to remove with the baseline; ``None``: no hum.
    current_sign : {"auto", "positive", "negative"}, default="auto"
        Direction of the channel current, when known; ``"auto"`` decides per recording
        by likelihood (see :class:`~skion.AggregatedHMM`).
    max_channels : int, default=10
        Most channels a recording may hold.
    baseline_window : float, default=0.2
        Seconds of the moving mean that tracks drift (longer than the longest dwells).
    calibration_rows : int, default=200_000
        Rows at the start of each recording on which its lattice and kinetics are fitted
        (the baseline is then tracked over all rows).
    max_iter : int, default=20
        EM iterations of each calibration (10 left ten channels recorded for 5 s with
        their baseline a level off; 20 found it).
    undo_filter : bool, default=True
        Where the calibration finds that a recording was low-pass filtered (a 4-pole
        Bessel filter, as amplifiers apply; see :class:`~skion.AggregatedHMM`), return
        its units with the filter undone (a regularized inverse), so that a model reads
        transitions within a sample and noise that is nearly white, as on an unfiltered
        rig. Measured on four bursting channels filtered at a tenth of the sampling rate
        (``skion.datasets.RIGS`` rig B): a U-Net trained on one recording scored
        macro-F1 0.783 on another as recorded, 0.950 with the filter undone.
        ``False``: the units keep the filter, as models saved before this option did.

    Attributes
    ----------
    recordings_ : pandas.DataFrame
        One row per training recording: ``start`` and ``stop`` rows, the calibrated
        ``unitary_current``, ``closed_level`` (mean baseline), ``noise_ratio`` (noise sd
        over the absolute unitary current), ``n_channels`` and ``filter_cutoff`` (Hz of
        the low-pass filter found, NaN for none); with labels also
        ``label_agreement`` (fraction of rows whose rounded label-free units equal the
        label).
    n_channels_max_ : int
        Most channels of any training recording (calibrated or labelled).
    noise_ratio_range_ : tuple of float
        Smallest and largest ``noise_ratio`` of the training recordings.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, when ``X`` had string column names.

    See Also
    --------
    skion.AggregatedHMM : The calibration; idealizes recordings on its own as well.
    skion.LatticeDetrender : One lattice for all recordings, learned from labels.

    Notes
    -----
    The calibration assumes identical channels of one conductance (a lattice of equally
    spaced levels), as :class:`~skion.AggregatedHMM` does; its cost is that of a short EM
    fit per recording (about 1-10 s per 100,000 rows, more with many channels). A
    recording whose all-closed level is never visited (many channels with a high open
    probability) has that level placed from the binomial shape of the others, which can
    be one channel off under heavy noise and drift: compare ``recordings_`` with what
    you know of the patch. Drift is told from gating by its time scale, so a recording
    must hold many dwells: measured on 3 s recordings of two channels with a drift of
    one or two steps, every calibration was right with fast gating and half were wrong
    with slow gating (dwells of about 0.1-1 s), which 10 s recordings fixed. Memory is
    O(rows of the longest recording).

    Examples
    --------
    >>> import numpy as np
    >>> from skion import LatticeScaler
    >>> from skion.datasets import make_patch_clamp
    >>> X, y, groups, _ = make_patch_clamp(
    ...     60_000, n_channels=2, n_recordings=2, kinetics="slow", unitary_current=-2.4,
    ...     offset=5.0, noise=0.5, random_state=0,
    ... )
    >>> scaler = LatticeScaler().fit(X, groups=groups)  # no labels
    >>> scaler.recordings_[["unitary_current", "n_channels"]].round(1)
       unitary_current  n_channels
    0             -2.4           2
    1             -2.4           2
    >>> units = scaler.transform(X, groups=groups)[:, 0]
    >>> bool(np.mean(np.round(units) == y) > 0.95)
    True
    """

    _parameter_constraints: dict = {
        "sampling_rate": [Interval(Real, 0, None, closed="neither")],
        "line_freq": [Interval(Real, 0, None, closed="neither"), None],
        "current_sign": [StrOptions({"auto", "positive", "negative"})],
        "max_channels": [Interval(Integral, 1, None, closed="left")],
        "baseline_window": [Interval(Real, 0, None, closed="neither")],
        "calibration_rows": [Interval(Integral, 1000, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "undo_filter": ["boolean"],
    }

    def __init__(
        self,
        *,
        sampling_rate=10_000.0,
        line_freq=None,
        current_sign="auto",
        max_channels=10,
        baseline_window=0.2,
        calibration_rows=200_000,
        max_iter=20,
        undo_filter=True,
    ):
        self.sampling_rate = sampling_rate
        self.line_freq = line_freq
        self.current_sign = current_sign
        self.max_channels = max_channels
        self.baseline_window = baseline_window
        self.calibration_rows = calibration_rows
        self.max_iter = max_iter
        self.undo_filter = undo_filter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, groups: ArrayLike | None = None
    ) -> LatticeScaler:
        """Calibrate every training recording and record the conditions seen.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order; the current is column 0.
        y : array-like of shape (n_samples,), default=None
            Open-channel counts, if known: the label-free calibration is checked
            against them (and ``fit_transform`` calibrates the training rows from them).
        groups : array-like of shape (n_samples,), default=None
            Recording of each row.

        Returns
        -------
        self : LatticeScaler
            The fitted transformer.
        """
        self._fit(X, y, groups)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(
        self, X: ArrayLike, y: ArrayLike | None = None, groups: ArrayLike | None = None
    ) -> np.ndarray:
        """Fit, and return the training rows in open-channel units (calibrated once).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order; the current is column 0.
        y : array-like of shape (n_samples,), default=None
            Open-channel counts, if known: the training rows are then calibrated from
            them (the label-free calibration is still checked and recorded).
        groups : array-like of shape (n_samples,), default=None
            Recording of each row.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features)
            ``X`` with column 0 in open-channel units.
        """
        return self._fit(X, y, groups)

    def _fit(self, X, y, groups):
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        check_signal_range(X)
        check_below_nyquist("line_freq", self.line_freq, self.sampling_rate)
        counts = None if y is None else check_counts(y, len(X), min_classes=1)
        out, table = self._scale(X, groups, counts)
        if counts is not None:
            table["label_agreement"] = self._follow_labels(X, out, counts, table)
        self.recordings_ = table
        largest = int(table["n_channels"].max())
        if counts is not None:
            largest = max(largest, int(counts.max()))
        self.n_channels_max_ = largest
        self.noise_ratio_range_ = (
            float(table["noise_ratio"].min()),
            float(table["noise_ratio"].max()),
        )
        return out

    def transform(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """Put every recording's current in open-channel units, calibrated on its own.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        groups : array-like of shape (n_samples,), default=None
            Recording of each row; each is calibrated separately.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features)
            ``X`` with column 0 replaced by ``(current - baseline) / unitary_current``.
            Same dtype as ``X``.

        Warns
        -----
        RigMismatchWarning
            When a recording shows more channels than any training recording, or noise
            (relative to its step) outside the trained range.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        check_signal_range(X)
        out, table = self._scale(X, groups)
        self._check_conditions(table)
        return out

    def calibrate(
        self,
        X: ArrayLike,
        groups: ArrayLike | None = None,
        *,
        return_transformed: bool = False,
    ) -> pd.DataFrame | tuple[np.ndarray, pd.DataFrame]:
        """The calibration of every recording, as ``transform`` computes it.

        It warns as ``transform`` does about recordings outside the training conditions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        groups : array-like of shape (n_samples,), default=None
            Recording of each row.
        return_transformed : bool, default=False
            Also return ``transform``'s output, from the same calibration (one EM fit
            per recording instead of two).

        Returns
        -------
        X_units : ndarray of shape (n_samples, n_features)
            Only with ``return_transformed``: what ``transform`` returns.
        table : pandas.DataFrame
            One row per recording, with the columns of ``recordings_`` (no
            ``label_agreement``).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        check_signal_range(X)
        out, table = self._scale(X, groups)
        self._check_conditions(table)
        return (out, table) if return_transformed else table

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.non_deterministic = False
        return tags

    def __getstate__(self):
        # The table as columns of plain values, so that model files hold data only.
        state = super().__getstate__()
        if isinstance(state.get("recordings_"), pd.DataFrame):
            state = {**state, "recordings_": state["recordings_"].to_dict(orient="list")}
        return state

    def __setstate__(self, state):
        # models saved before ``undo_filter`` existed were trained on filtered units
        state = {"undo_filter": False, **state}
        if isinstance(state.get("recordings_"), dict):
            state = {**state, "recordings_": pd.DataFrame(state["recordings_"])}
        super().__setstate__(state)

    # ---------------------------------------------------------------- helpers
    def _scale(self, X, groups, counts=None):
        """Column 0 in open-channel units, and the calibration table, per recording.

        With ``counts``, a recording that cannot be calibrated without labels (a single
        level, too few rows, too much noise) is calibrated from its labels, with a warning.
        """
        out = np.array(X, copy=True)
        table = []
        for i, rows in enumerate(Recordings(len(X), groups)):
            try:
                units, calibration = self._calibrate_one(X[rows, 0], i, rows)
            except ValueError as error:
                labelled = None if counts is None else self._labelled_one(X[rows, 0], counts[rows])
                if labelled is None:
                    raise
                units, calibration = labelled
                warnings.warn(
                    f"{error}; as a training recording it was calibrated from its labels, "
                    "but unlabelled recordings like it will be refused.",
                    RigMismatchWarning,
                    stacklevel=5,
                )
            out[rows, 0] = self._unfiltered(units, calibration[-1])
            table.append((rows.start, rows.stop, *calibration))
        return out, pd.DataFrame(table, columns=_COLUMNS)

    def _unfiltered(self, units, cutoff):
        """``units`` with the filter at ``cutoff`` Hz undone, if asked and one was found."""
        if not self.undo_filter or not np.isfinite(cutoff):
            return units
        from ..hmm._filter import undo_filter  # skion.hmm imports this package

        return undo_filter(units, cutoff, self.sampling_rate)

    def _follow_labels(self, X, out, counts, table):
        """Training rows calibrated from their labels; warn where the label-free
        calibration disagrees with them. Returns that calibration's agreement per
        recording (fraction of rows whose rounded units equal the label)."""
        agreements, off = [], []
        for row in table.itertuples():
            rows = slice(row.start, row.stop)
            labels = counts[rows]
            agreement = float(np.mean(np.round(out[rows, 0]) == labels))
            units, _ = self._units_from_labels(X[rows, 0].astype(np.float64), labels)
            if units is None:  # one count only: the labels fix the origin, not the step
                units = out[rows, 0] + np.round(np.median(labels - out[rows, 0]))
            else:
                units = self._unfiltered(units, row.filter_cutoff)
            if agreement < np.mean(np.round(units) == labels) - _AGREEMENT_SLACK:
                off.append(f"{row.Index} ({agreement:.2f})")
            out[rows, 0] = units
            agreements.append(agreement)
        if off:
            warnings.warn(
                f"Calibrated without labels, training recording(s) {', '.join(off)} "
                "disagree with their labels (fraction of rows whose rounded units equal "
                "the label in brackets); their training rows follow the labels, but "
                "unlabelled recordings like them may be misread the same way (see "
                "recordings_).",
                RigMismatchWarning,
                stacklevel=5,
            )
        return agreements

    def _labelled_one(self, current, labels):
        """Units and calibration of one recording from its labels, or None."""
        x = current.astype(np.float64)
        units, step = self._units_from_labels(x, labels)
        if units is None:
            return None
        noise_ratio = float(np.std(units - labels))
        closed = float(np.mean(x - step * units))
        return units, (step, closed, noise_ratio, int(labels.max()), np.nan)

    def _units_from_labels(self, x, labels):
        """``(units, step)`` of one labelled recording: the step from the current's
        covariance with the counts inside blocks (where drift cancels), the baseline a
        moving mean (and hum) of the current less the channels. ``(None, None)`` without
        counts that vary within a block."""
        from ..hmm._baseline import fit_baseline  # skion.hmm imports this package

        step = within_block_step([(x, labels)], max(2, min(1000, len(x) // 8)))
        if step is None:
            return None, None
        baseline = fit_baseline(
            x - step * labels,
            window=max(round(self.baseline_window * self.sampling_rate), 3),
            line_freq=self.line_freq,
            n_harmonics=3,
            sampling_rate=self.sampling_rate,
        )
        return (x - baseline) / step, step

    def _calibrate_one(self, current, index, rows):
        # imported here: skion.hmm imports skion.preprocessing's helpers at its import
        from ..hmm import AggregatedHMM

        x = np.asarray(current, dtype=np.float64)[:, None]
        hmm = AggregatedHMM(
            sampling_rate=self.sampling_rate,
            current_sign=self.current_sign,
            line_freq=self.line_freq,
            baseline_window=self.baseline_window,
            max_channels=self.max_channels,
            max_iter=self.max_iter,
        )
        where = f"Recording {index} (rows {rows.start}-{rows.stop})"
        try:
            with warnings.catch_warnings(record=True) as caught:
                for category in _NAMED_WARNINGS:
                    warnings.simplefilter("always", category)
                hmm.fit(x[: self.calibration_rows])
        except ValueError as error:
            raise ValueError(f"{where} cannot be put in open-channel units: {error}") from error
        for warning in caught:  # said again, naming the recording
            message = warning.message
            if isinstance(message, _NAMED_WARNINGS):
                message = type(message)(f"{where}: {message}")
            warnings.warn(message, stacklevel=5)
        baseline = hmm.predict_baseline(x)
        step = hmm.unitary_current_
        units = (x[:, 0] - baseline) / step
        noise_ratio = hmm.noise_sd_ / abs(step)
        cutoff = np.nan if hmm.filter_cutoff_ is None else float(hmm.filter_cutoff_)
        return units, (step, float(np.mean(baseline)), noise_ratio, hmm.n_channels_, cutoff)

    def _check_conditions(self, table):
        """Warn about recordings outside the conditions seen in ``fit``."""
        low, high = self.noise_ratio_range_
        for row in table.itertuples():
            where = f"Recording {row.Index} (rows {row.start}-{row.stop})"
            if row.n_channels > self.n_channels_max_:
                warnings.warn(
                    f"{where} shows {row.n_channels} channels; the training recordings "
                    f"had at most {self.n_channels_max_}, so counts above that were never "
                    "seen in training.",
                    RigMismatchWarning,
                    stacklevel=4,
                )
            if not low / _NOISE_TOLERANCE <= row.noise_ratio <= high * _NOISE_TOLERANCE:
                warnings.warn(
                    f"{where} has noise {row.noise_ratio:.2f} times its unitary current "
                    f"({row.unitary_current:.3g}); the training recordings had "
                    f"{low:.2f}-{high:.2f}: the model extrapolates.",
                    RigMismatchWarning,
                    stacklevel=4,
                )
