"""AggregatedHMM on new recordings: each recording's baseline found and tracked, then its
counts decoded."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from .._signal import check_signal_range
from .._threads import map_threads, one_blas_thread
from ._count_kernels import (
    count_emission_of,
    forward_log_likelihood,
)
from ._fit_refinement import _SHIFT_ROUNDS
from ._lattice_search import _LATTICE_DRIFT, _MOVING_MEAN
from ._posterior import _MAX_OMEGA, _e_step

#: Rows used to place a new recording's levels.
_SHIFT_ROWS = 50_000
#: Bins per noise sd of the sample whose lattice shift is searched.
_SHIFT_BINS_PER_SD = 40
#: Baseline-only EM rounds when predicting a new recording: at most this many, fewer
#: once a round moves the baseline by less than ``_TRACK_TOL`` unitary steps (rms).
_PREDICT_ROUNDS = 4
_TRACK_TOL = 1e-3
#: A tracking round that moves the baseline along the last move by more than this
#: fraction of it is stretched by a line search (EM crawling; see ``_track``).
_CRAWL = 0.5
#: Where the noise is not white, the windows tried for tracking new recordings'
#: baselines: ``baseline_window`` halved up to this many times, each at least
#: ``_TRACKING_RELAXATIONS`` of the fitted channel's slowest relaxation time (a moving
#: mean of 1.5 relaxation times followed the gating of 6 bursting channels: macro-F1
#: 0.56-0.62 where 0.98 was possible), chosen on the first ``_TRACKING_ROWS`` rows.
#: Measured on 36 recordings under 1/f noise (1-8 channels, five schemes, 100,000 rows,
#: white noise 0.01-0.25 step): +2.5 points of macro-F1 on average (median +1.5, up to
#: +18), none lower but one failed fit (0.060 -> 0.059).
_TRACKING_HALVINGS = 5
_TRACKING_RELAXATIONS = 2.0
_TRACKING_ROWS = 200_000


class _Decoding:
    """How ``AggregatedHMM`` decodes recordings it was not fitted on (a mixin of its methods)."""

    @one_blas_thread
    def _decode(self, X, groups, *, kind):
        """Count posteriors (``kind="proba"``) or their argmax (``"argmax"``) and the
        baselines of new recordings, each baseline re-estimated.

        Every series writes its posterior straight into the output, so that memory
        beyond it is a few floats per row of the longest series, whatever its length.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        check_signal_range(X)
        xs, recordings = self._split(X, groups)
        xs = self._undo_filter(xs, self.filter_cutoff_)
        step = self._decimation
        params = self._params
        weights = self._count_weights(params)
        n_counts = params.chain.n_channels + 1
        if kind == "proba":
            out = np.empty((len(X), n_counts))
        else:
            out = np.empty(len(X), dtype=np.min_scalar_type(n_counts))
        baseline = np.empty(len(X))
        # every phase of a decimated recording is decoded as a series of its own
        series = [
            (slice(rows.start + phase, rows.stop, step), x[phase::step])
            for rows, x in zip(recordings, xs, strict=True)
            for phase in range(step)
        ]

        def one(rows_x):
            rows, x = rows_x
            baseline[rows] = self._decode_one(x, params, weights, out[rows])

        for _ in map_threads(one, series, self.n_jobs):
            pass
        return out, baseline

    def _tracking_windows(self, seconds=None):
        """Rows of the moving means over which a new recording's baseline is tracked
        again after ``baseline_window``: that halved, down to ``seconds`` (by default
        ``tracking_window_``; none where that is ``baseline_window``)."""
        if seconds is None:  # model files written before it track over baseline_window
            seconds = getattr(self, "tracking_window_", self.baseline_window)
        if self._window() is None or seconds >= self.baseline_window:
            return []
        halvings = round(np.log2(self.baseline_window / seconds))
        rate = self._model_rate()
        return [max(round(self.baseline_window / 2**k * rate), 3) for k in range(1, halvings + 1)]

    def _tracking_window(self, xs, params):
        """The tracking window (s) of least leave-one-out error on the fit's recordings
        (their first ``_TRACKING_ROWS`` rows), among ``baseline_window`` and its halvings
        down to ``_TRACKING_RELAXATIONS`` relaxation times of the fitted channel.

        Every recording is decoded as a new one would be (``_decode_one``), its baseline
        tracked over each candidate in turn; a candidate's error is that of predicting
        every row's residual ``r = x - step E[count]`` by the moving mean ``b`` of the
        others, ``(r - b) / (1 - 1/W)`` for a moving mean of ``W`` rows. Under white noise
        it falls as the window grows; under 1/f noise the shorter windows follow the
        noise and win.
        """
        rates = params.chain.rate_matrix(params.rates)
        eigenvalues = np.linalg.eigvals(rates).real
        decays = -eigenvalues[eigenvalues < -1e-12 * np.abs(eigenvalues).max()]
        floor = _TRACKING_RELAXATIONS / decays.min() if len(decays) else 0.0
        candidates = [self.baseline_window]
        while len(candidates) <= _TRACKING_HALVINGS and candidates[-1] / 2 >= floor:
            candidates.append(candidates[-1] / 2)
        if len(candidates) == 1:
            return self.baseline_window
        windows = [self._window(), *self._tracking_windows(candidates[-1])]
        heads = self._heads(xs, _TRACKING_ROWS)
        sample = xs if heads is None else [x[:k] for x, k in zip(xs, heads, strict=True)]
        weights = self._count_weights(params)

        def errors(x):
            out = np.empty(len(x), dtype=np.int16)
            stages = self._stages(x, params, weights, out, windows[1:])
            found = []
            for rows, baseline in zip(windows, stages, strict=True):
                (posterior,), _, _ = _e_step([x], [baseline], params)
                residual = x - params.step * posterior.mean - baseline
                # a row weighs 1/W in its own moving mean away from the edges (up to 2/W
                # at an edge, where the window is reflected): the correction leans long
                found.append(float(np.sum((residual / (1.0 - 1.0 / rows)) ** 2)))
            return np.array(found)

        total = sum(map_threads(errors, sample, self.n_jobs))
        return candidates[int(np.argmin(total))]

    def _decode_one(self, x, params, weights, out):
        """Baseline of one series, its count posterior (or argmax) written to ``out``:
        baseline-only EM rounds from the best lattice shift, then whole-level moves of
        blocks that raise its likelihood (``_settled``); where the noise is not white,
        then tracked again over ever shorter windows (``_tracking_windows``), each from
        the last. Started at the tracking window itself, 1/f noise put stretches of
        up to a third of a recording a whole level off (lattice drifts that slipped a
        step); from the fit's window the levels stay where that placed them."""
        *_, baseline = self._stages(x, params, weights, out, self._tracking_windows())
        return baseline

    def _stages(self, x, params, weights, out, windows):
        """Baseline of one series after each stage of its tracking: over
        ``baseline_window`` (``_settled``), then over each of ``windows`` (rows) in turn,
        from the last; the count posterior (or argmax) of the latest in ``out``."""
        baseline = self._settled(x, self._start_baseline(x, params, weights), params, out)
        yield baseline
        for rows in windows:
            baseline = self._track(x, baseline, params, out, rows)[1]
            yield baseline

    def _settled(self, x, baseline, params, out):
        """Baseline tracked from ``baseline`` (``_track``), then moved by whole levels
        (``_shift_levels``) and tracked again while that raises the likelihood."""
        loglik, baseline = self._track(x, baseline, params, out)
        for _ in range(_SHIFT_ROUNDS):
            (shifted,), moved = self._shift_levels([x], [baseline], params)
            if not moved:
                break
            candidate = self._track(x, shifted, params, out)
            if candidate[0] <= loglik:  # ``out`` holds the candidate's posterior: undo
                _e_step([x], [baseline], params, outs=[out])
                break
            loglik, baseline = candidate
        return baseline

    def _track(self, x, baseline, params, out, window=None):
        """Baseline-only EM rounds on one series (up to ``_PREDICT_ROUNDS``, until one
        moves the baseline by less than ``_TRACK_TOL`` steps rms), the baseline a moving
        mean of ``window`` rows (by default ``baseline_window``'s): its log-likelihood
        and baseline, the count posterior (or argmax) written to ``out``.

        Two rounds suffice on a recording like the fit's (10 channels at noise 0.3
        step: the baseline moved 0.004 then 0.0009 step rms; four more rounds would
        move it 0.0003 in all), three E-steps fewer of five per series. Where a round
        moves the baseline the same way as the one before, by more than half as much
        (``_CRAWL``), EM is crawling and the move is stretched (``_stretched``): on 10
        channels at an open probability of 0.6 and noise 0.5 step, each round moved the
        baseline 0.001 step towards an optimum 0.2 step away (800 nats higher).
        """
        before = None
        for _ in range(_PREDICT_ROUNDS):
            (posterior,), _, loglik = _e_step([x], [baseline], params, outs=[out])
            moved = self._track_baselines([x], [posterior.mean], params.step, window)
            if np.sqrt(np.mean((moved[0] - baseline) ** 2)) < _TRACK_TOL * abs(params.step):
                return loglik, baseline
            (baseline,), before = self._unstuck([x], [baseline], moved, before, params)
        _, _, loglik = _e_step([x], [baseline], params, outs=[out])
        return loglik, baseline

    def _unstuck(self, xs, old, new, before, params):
        """Every recording's new baseline, stretched (``_stretched``) where EM moved it
        from ``old`` along its last move (``before``, ``None`` at first) by more than
        ``_CRAWL`` of it; and the moves, for the next call."""
        moves = [n - o for n, o in zip(new, old, strict=True)]
        if before is None:
            return new, moves

        def one(i):
            if moves[i] @ before[i] > _CRAWL * (before[i] @ before[i]):
                return self._stretched(xs[i], old[i], moves[i], params)
            return new[i]

        return list(map_threads(one, range(len(xs)), self.n_jobs)), moves

    @staticmethod
    def _stretched(x, baseline, move, params):
        """``baseline + a * move`` for the ``a`` (1 to ``_MAX_OMEGA``) of highest forward
        log-likelihood: ``a`` grows fourfold while that rises, then a parabola through
        the last three refines it."""
        chain = params.chain
        A, initial = chain.transition(params.rates, params.dt), chain.initial(params.rates)

        def loglik(a):
            emission_of = count_emission_of(
                x,
                baseline + a * move,
                params.step,
                params.noise,
                chain.n_channels + 1,
                excess=params.open_noise,
            )
            value = forward_log_likelihood(emission_of, len(x), chain.level, A, initial)
            return -np.inf if np.isnan(value) else value

        tried = [(1.0, loglik(1.0))]
        while tried[-1][0] < _MAX_OMEGA:
            a = 4.0 * tried[-1][0]
            tried.append((a, loglik(a)))
            if not tried[-1][1] > tried[-2][1]:
                break
        if len(tried) >= 3 and not tried[-1][1] > tried[-2][1] and np.isfinite(tried[-2][1]):
            (a0, f0), (a1, f1), (a2, f2) = tried[-3:]
            # vertex of the parabola through the three points (a1 is the highest)
            num = (a1 - a0) ** 2 * (f1 - f2) - (a1 - a2) ** 2 * (f1 - f0)
            den = (a1 - a0) * (f1 - f2) - (a1 - a2) * (f1 - f0)
            if den != 0:
                a = a1 - 0.5 * num / den
                if a0 < a < a2:
                    tried.append((a, loglik(a)))
        best = max(tried, key=lambda point: point[1])[0]
        return baseline + best * move

    @staticmethod
    def _count_weights(params):
        """Stationary probability of every open-channel count."""
        initial = params.chain.initial(params.rates)
        return np.bincount(params.chain.level, weights=initial)

    def _start_baseline(self, x, params, weights):
        """Starting baseline of a new recording: the lattice shift that best explains its
        current less a drift of the kind the calibration chose (``_drift_kind``).

        The lattice's drift (at the fitted step) where the calibration chose it (slow
        gating); the calibration's own choice made on this recording (``_sharpest``,
        among no drift, the cubic, the moving mean and the lattice's drift) where it
        chose no drift or the cubic (a cubic alone can miss another recording's random
        walk); and no drift, the moving mean or the lattice's drift, whichever explains
        the current better, where it chose the moving mean (or labels were given), as
        measured over the conditions grid. The mixture likelihood alone would misjudge
        the moving mean, which follows slow gating yet narrows the density: it was
        preferred to the lattice's drift (0.30 step off where that was 0.02) on 4 slow
        channels at noise 0.43 step, and to no drift at all (0.33 step off) on 6 slow
        channels at noise 0.5 step without drift. Where gating is fast, the lattice's
        drift alone is the worse start (10 channels at an open probability of 0.6, noise
        0.3 step, a ramp: 1.3 points lost), and the moving mean alone follows a random
        walk too loosely (4 channels at 0.6, noise 0.27 step: 0.11-0.14 step off where
        the lattice's drift is 0.02-0.05, macro-F1 0.953 where 0.982 is possible); the
        mixture chose the best of the three in both.
        """
        kind = getattr(self, "_drift_kind", _MOVING_MEAN)
        if kind == _LATTICE_DRIFT:
            drift = self._lattice_drift(x, abs(params.step), params.noise)
            trends = [np.zeros(len(x))] if drift is None else [drift]
        elif kind == _MOVING_MEAN:
            drift = self._coarse_drift(x)
            trends = [np.zeros(len(x)), drift] if np.any(drift) else [drift]
            lattice = self._lattice_drift(x, abs(params.step), params.noise)
            trends += [] if lattice is None else [lattice]
        else:
            trends = [self._sharpest_drift(x, params)]
        best = None
        for trend in trends:
            offset, loglik = self._best_shift((x - trend)[:_SHIFT_ROWS], params, weights)
            if best is None or loglik > best[1]:
                best = (offset + trend, loglik)
        return best[0]

    def _sharpest_drift(self, x, params):
        """The drift (none, cubic, moving mean, or the lattice's at the fitted step) that
        the calibration's own rule (``_sharpest``) chooses on this recording."""
        drifts = self._drift_candidates(x, abs(params.step), params.noise)
        found = self._sharpest(x, drifts)
        return drifts[0] if found is None else found[1]

    def _best_shift(self, sample, params, weights):
        """Closed level (and its mixture log-likelihood) on a grid of 1/20 step.

        The sample is first binned at ``1 / _SHIFT_BINS_PER_SD`` of the noise sd and every
        bin scored at its centre, times its rows (50,000 rows of 10 channels at noise 0.3
        step fall into about 800 bins).
        """
        step, noise = params.step, params.noise
        k = np.arange(params.chain.n_channels + 1)
        low, high = np.quantile(sample, [0.001, 0.999])
        lowest = min(low, high - step * k[-1]) if step > 0 else min(low - step * k[-1], high)
        candidates = np.arange(lowest - abs(step), max(low, high) + abs(step), abs(step) / 20)
        if len(candidates) > 2000:
            candidates = np.linspace(candidates[0], candidates[-1], 2000)
        width = noise / _SHIFT_BINS_PER_SD
        n_bins = int(np.ptp(sample) / width) + 1
        if n_bins < len(sample):
            rows, edges = np.histogram(sample, n_bins)
            values = 0.5 * (edges[:-1] + edges[1:])[rows > 0]
            rows = rows[rows > 0]
        else:
            values, rows = sample, np.ones(len(sample))
        sd = params.sd(k)
        log_w = np.log(np.clip(weights, 1e-300, None)) - np.log(sd / noise)
        best, best_ll = candidates[0], -np.inf
        for c in candidates:
            z = (values[:, None] - c - step * k[None, :]) / sd
            ll = rows @ np.logaddexp.reduce(log_w[None, :] - 0.5 * z * z, axis=1)
            if ll > best_ll:
                best, best_ll = c, ll
        return float(best), float(best_ll)
