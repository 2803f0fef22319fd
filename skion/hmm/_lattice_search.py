"""AggregatedHMM without labels, before EM: the lattice of current levels (step, drift,
channel count and closed level) and the current's sign, found on the longest recording."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.stats import binom
from sklearn.base import clone

from .._threads import map_threads
from ..preprocessing._lattice import lattice_baseline, lattice_coherence
from ._aggregated_chain import AggregatedChain
from ._calibration import (
    CALIBRATION_ROWS,
    Lattice,
    calibrate_lattice,
    level_weights,
    noise_sd,
    refine_lattice,
)
from ._calibration import MIN_PEAK_MASS as MIN_LEVEL_MASS
from ._jumps import jump_step
from ._posterior import _e_step, _Params
from ._transition_checks import excessive_size, transition_checks

#: Rows the longest recording needs for a calibration without labels.
_MIN_ROWS = 1_000
#: Rows per recording used to choose between starting points (orientation, step).
_SCREEN_ROWS = 200_000
_SCREEN_ITER = 6
#: Rows of the step search when the density shows no levels.
_SEARCH_ROWS = 50_000
#: Noise (in steps) up to which the mixture's level weights place the lattice; noisier
#: levels are placed by short EM fits.
_BINOMIAL_MAX_NOISE = 0.4
#: Levels beyond the visited ones that the choice of N and closed level may add.
_EXTRA_LEVELS = 3
#: Rows (evenly spaced) of the lattice mixture refinement.
_REFINE_ROWS = 100_000
#: Grid steps whose short EM runs ``_LONGER_ITER`` more iterations: after the first 6, 7 fast
#: channels (noise 0.38 step, a random walk; random cell 3019) ranked the right step fourth,
#: and first by 760 nats after 26 (with 3 refined: 10 channels of 0.73 the step, macro-F1
#: 0.073; with 6: 0.919).
_REFINE_CANDIDATES = 6
#: Channels beyond the spanned levels that every grid step of the search also tries (a
#: high open probability never visits the all-closed level).
_UNSEEN_LEVELS = 2
#: Binomial placements (N, closed level) that short EM fits then choose between.
_PLACEMENTS = 3
_LONGER_ITER = 20
#: A lattice whose noise exceeds this many steps is no lattice.
_MAX_NOISE_RATIO = 1.0
#: Phase blocks per baseline window of the drift candidate that follows the lattice.
_PHASE_BLOCK_FRACTION = 4
#: Noise (in steps) to which the current is averaged down before its lattice phase is
#: measured.
_PHASE_MAX_NOISE = 0.2
#: The calibration's drift candidates, in order: none, a cubic trend, a moving mean, and
#: the drift that keeps the current on the lattice of its jumps' step.
_NO_DRIFT, _CUBIC, _MOVING_MEAN, _LATTICE_DRIFT = range(4)
#: Coherence (times the phase block's rows) below which the lattice's phase is noise:
#: ``1`` for no lattice; 15-250 measured on 16 random recordings of 1-8 channels, whose
#: lattice drifts then came within 0.03 step of the truth.
_MIN_COHERENCE = 8.0
#: Steps scanned for the lattice's phase where the density shows no peaks.
_COHERENCE_STEPS = 60
#: The coherent step must be this many times more coherent than the least coherent step
#: between it and twice it.
_COHERENCE_CONTRAST = 4.0
#: Relative difference between a given unitary current and the step the peaks show
#: beyond which the peaks are not used.
_HINT_TOLERANCE = 0.15


class _LatticeSearch:
    """Where ``AggregatedHMM`` starts EM without labels (a mixin of its methods)."""

    def _calibrate(self, x):
        """Step, noise and visited levels of one recording, with its coarse drift and
        that drift's kind (``_NO_DRIFT``, ``_CUBIC``, ``_MOVING_MEAN``, ``_LATTICE_DRIFT``).

        Up to four coarse drifts are tried: none, a cubic trend in time, a moving mean
        (which also follows slow gating), and the drift that keeps the current on the
        lattice of the step its jumps show (where the jumps are resolved: slow gating,
        whose dwells the moving mean follows). The lattice that shows at the least smoothing
        wins, and among those the one that explains the single samples best (lattice
        mixture log-likelihood per sample, less half a log of the sample size per
        level): a drift of a few steps can fake a lattice of another spacing after
        smoothing (1.55 pA found for 1.23 pA in a competition ramp at smoothing 8; 1.23
        pA at smoothing 1 once the cubic is removed), and a moving mean that follows
        slow gating fakes a finer lattice (0.60 for 1.0 pA at smoothing 8, where the raw
        current shows 1.0 at smoothing 1). Likelihoods alone would prefer the moving
        mean, which always narrows the density.
        """
        drifts = self._drift_candidates(x)
        found = self._sharpest(x, drifts)
        if found is not None:
            return found
        # no peaks: the current less the lattice's drift at the step its phase shows, if
        # any; else the step search on the current less its moving mean, and if that
        # fails (the moving mean blurred a sine drift into 12 levels for 10 channels)
        # less the cubic
        step = self._coherent_step(x)
        drift = None if step is None else self._lattice_drift(x, step, noise_sd(x))
        lattice = None if drift is None else self._hinted(calibrate_lattice(x - drift))
        if lattice is not None:
            return lattice, drift, _LATTICE_DRIFT
        try:
            drift, kind = drifts[_MOVING_MEAN], _MOVING_MEAN
            return self._search_lattice(x - drift)[0], drift, kind
        except ValueError:
            drift, kind = drifts[_CUBIC], _CUBIC
            return self._search_lattice(x - drift)[0], drift, kind

    def _sharpest(self, x, drifts):
        """``(lattice, drift, index)`` of the drift after which the lattice shows at the
        least smoothing, and among those the best lattice score; ``None`` if none shows."""
        found = []
        for i, drift in enumerate(drifts):
            lattice = self._hinted(calibrate_lattice(x - drift))
            if lattice is not None:
                key = (lattice.smoothing, -self._lattice_score(x - drift, lattice))
                found.append((key, i, lattice))
        if not found:
            return None
        _, i, lattice = min(found, key=lambda candidate: candidate[0])
        return lattice, drifts[i], i

    def _hinted(self, lattice):
        """A lattice the density's peaks show, with the given ``unitary_current``'s size
        as its step; ``None`` if the peaks are more than ``_HINT_TOLERANCE`` off it (the
        step search then starts from the hint alone). A given step thus still lets the
        peaks place the levels, as they do without it."""
        if lattice is None or self.unitary_current is None:
            return lattice
        step = abs(float(self.unitary_current))
        if abs(lattice.step / step - 1) > _HINT_TOLERANCE:
            return None
        n_levels = round((lattice.n_levels - 1) * lattice.step / step) + 1
        return replace(lattice, step=step, n_levels=n_levels)

    @staticmethod
    def _lattice_score(x, lattice):
        """Lattice mixture log-likelihood per sample of ``x`` (single samples), less a
        BIC penalty per level."""
        head = x[:CALIBRATION_ROWS]
        sample = head[:: max(len(head) // _REFINE_ROWS, 1)]
        *_, loglik = refine_lattice(
            sample, lattice.offset, lattice.step, lattice.n_levels, noise_sd(head), max_iter=20
        )
        return loglik - 0.5 * np.log(len(sample)) * lattice.n_levels / len(sample)

    @staticmethod
    def _cubic_drift(x):
        """Cubic trend of ``x`` in time (zero median)."""
        if len(x) <= 3:
            return np.zeros(len(x))
        t = np.linspace(-1.0, 1.0, len(x))
        cubic = np.polynomial.Polynomial.fit(t, x, deg=3)(t)
        return cubic - np.median(cubic)

    def _drift_candidates(self, x, step=None, sd=None):
        """No drift, the cubic trend of ``x`` in time, its moving mean, and the drift
        that keeps the current on the lattice of ``step`` (noise ``sd``), by default the
        step its jumps show (zero median; the last is left out where it is unknown)."""
        candidates = [np.zeros(len(x)), self._cubic_drift(x), self._coarse_drift(x)]
        if step is None:
            sd = noise_sd(x)
            step = jump_step(x[:CALIBRATION_ROWS], sd)
        drift = None if step is None else self._lattice_drift(x, step, sd)
        return candidates if drift is None else [*candidates, drift]

    def _lattice_drift(self, x, step, sd):
        """Drift (zero median) that keeps ``x`` on a lattice of spacing ``step`` (see
        ``lattice_baseline``), from the current averaged down to ``_PHASE_MAX_NOISE``
        step of noise (the lattice's phase fades as ``exp(-2 pi^2 sd^2 / step^2)``, and
        dwells long enough to show jumps stay on their levels). Unlike a moving mean it
        does not follow the channels' gating, however slow. ``None`` without a tracked
        baseline, or where the phase is too weak to be measured (coherence below
        ``_MIN_COHERENCE`` blocks' worth of noise)."""
        window = self._window()
        if window is None:
            return None
        z, block = self._phase_view(x, step, sd, window)
        if lattice_coherence(z, step, block) * block < _MIN_COHERENCE:
            return None
        drift = lattice_baseline(
            z,
            step=step,
            reference=float(np.median(x[:window])),
            block=block,
            line_freq=self.line_freq,
            sampling_rate=self._model_rate(),
        )
        return drift - np.median(drift)

    @staticmethod
    def _phase_view(x, step, sd, window):
        """``x`` averaged down to ``_PHASE_MAX_NOISE`` step of noise (at most a phase
        block), and the phase block's rows, for a baseline ``window``."""
        most = max(window // _PHASE_BLOCK_FRACTION, 1)
        smoothing = int(np.clip(np.ceil((sd / (_PHASE_MAX_NOISE * step)) ** 2), 1, most))
        z = uniform_filter1d(x, smoothing, mode="nearest") if smoothing > 1 else x
        return z, max(most, 2)

    def _coherent_step(self, x):
        """The step on whose lattice the current's phase is most coherent over phase
        blocks, found without peaks in the density; ``None`` where none stands out.

        A drift of several steps that no coarse drift follows blurs every level, but it
        barely moves the lattice's phase within a block: 7 bursting channels (noise 0.18
        step) on a random walk of 2.9 steps, whose density showed no peaks after any
        coarse drift, gave a coherence (times the block's rows) of 93 at 1.77 pA for a
        1.76 pA step, 1-6 elsewhere. Steps from the noise sd to two thirds of the spread
        left by the moving mean are scanned; the best must be a local maximum above
        ``_MIN_COHERENCE`` at least ``_COHERENCE_CONTRAST`` times the least coherence
        between it and twice it (at twice the step the even and odd counts cancel, and
        a step beyond the current's spread is coherent whatever the lattice).
        """
        window = self._window()
        if window is None:
            return None
        x = x[:CALIBRATION_ROWS]
        sd = noise_sd(x)
        low, high = np.quantile(x - self._coarse_drift(x), [0.001, 0.999])
        if not (sd > 0 and high - low > 1.5 * sd):
            return None
        steps = np.geomspace(sd, (high - low) / 1.5, _COHERENCE_STEPS)
        coherence = []
        for step in steps:
            z, block = self._phase_view(x, step, sd, window)
            coherence.append(lattice_coherence(z, step, block) * block)
        coherence = np.array(coherence)
        peaks = [
            i
            for i in range(1, len(steps) - 1)
            if coherence[i] >= max(coherence[i - 1], coherence[i + 1], _MIN_COHERENCE)
            and 2 * steps[i] <= steps[-1]
        ]
        if not peaks:
            return None
        best = max(peaks, key=lambda i: coherence[i])
        beyond = coherence[(steps > steps[best]) & (steps <= 2 * steps[best])]
        if coherence[best] < _COHERENCE_CONTRAST * beyond.min():
            return None
        return float(steps[best])

    def _short_em(self, x, baseline, chain, step, noise, dt, n_iter, *, track=False):
        """A few EM iterations on one recording from a constant baseline.

        Without ``track`` the baseline stays one constant: the search runs on the current
        with its coarse drift removed, and a tracked baseline would absorb the slow part
        of the channels' own fluctuations, biasing the step.
        """
        baselines = [np.broadcast_to(baseline, x.shape).astype(np.float64)]
        rates = self._initial_rates(chain, [x], baselines, step)
        params = _Params(chain, rates, float(step), float(noise), dt)
        runner = self
        if not track:
            runner = clone(self).set_params(baseline="constant")
            runner._decimation = self._decimation
        return runner._em([x], baselines, params, None, n_iter, 0.0)

    def _short_ems(self, x, starts, noise, dt, *, skip_failed=True, track=False):
        """``_short_em`` from every ``(chain, step, baseline, n_iter)`` start, in order, on
        ``n_jobs`` threads; ``None`` for a start whose fit failed if ``skip_failed``."""

        def one(start):
            chain, step, baseline, n_iter = start
            try:
                return self._short_em(x, baseline, chain, step, noise, dt, n_iter, track=track)
            except ValueError:
                if skip_failed:
                    return None
                raise

        return list(map_threads(one, starts, self.n_jobs))

    def _search_lattice(self, x):
        """Levels of a recording whose density shows no peaks: the step that a short EM of
        a two-state channel model explains best, over a grid of steps from the current's
        range down to half of it per channel allowed (``n_channels`` where given, else
        ``max_channels``): a given count bounds the search (with ``max_channels`` alone,
        6 channels given were refused as "8 current levels" by a step a quarter short)."""
        x = x[:_SEARCH_ROWS]
        sigma = noise_sd(x)
        low, high = np.quantile(x, [0.001, 0.999])
        spread = high - low
        if not spread > 0:
            raise ValueError("The recording is constant: there is nothing to idealize.")
        if self.unitary_current is not None:
            steps = np.array([abs(float(self.unitary_current))])
        else:
            steps = np.geomspace(max(spread / (2 * self._limit()), sigma), spread, 12)
        dt = 1.0 / self._model_rate()
        starts = []
        for step in steps:
            spanned = int(np.clip(round((spread - 4 * sigma) / step), 1, self._limit()))
            for n_channels in sorted({spanned, min(spanned + _UNSEEN_LEVELS, self._limit())}):
                starts.append((AggregatedChain(n_channels, 1, 1), step, low + 2 * sigma, 6))
        # a start that degenerated (an impossible sample) is skipped
        fits = [fit for fit in self._short_ems(x, starts, sigma, dt) if fit is not None]
        if not fits:
            raise ValueError(
                "No lattice of equally spaced current levels could be fitted to the "
                "recording: check that it holds channel openings."
            )
        # the best few starts run longer; the winner's step, still rough (the two-state
        # model is not the channel's), is then refined by the lattice mixture. Starts
        # whose levels are finer than the channels' own (``_finer``) come last.
        fits.sort(key=lambda fitted: (self._finer([x], fitted), -fitted[2]))

        def longer(fitted):
            try:
                return self._em([x], fitted[1], fitted[0], None, _LONGER_ITER, 0.0)
            except ValueError:
                return None

        best = None
        for refit in map_threads(longer, fits[:_REFINE_CANDIDATES], self.n_jobs):
            if refit is not None:
                key = (not self._finer([x], refit), refit[2])
                if best is None or key > best[0]:
                    best = (key, refit)
        best = fits[0] if best is None else best[1]
        params, (baseline,), bound, _, _ = best
        occupancy = _e_step([x], [baseline], params)[0][0].occupancy
        used = np.flatnonzero(occupancy >= max(MIN_LEVEL_MASS, 1e-4 * len(x)))
        level = float(np.mean(baseline))
        lowest = level + params.step * (used.min() if params.step > 0 else used.max())
        best = (lowest, abs(params.step), int(np.ptp(used)) + 1, params.noise, bound)
        refined = refine_lattice(
            x[:: max(len(x) // _REFINE_ROWS, 1)], lowest, best[1], best[2], params.noise
        )
        if refined[2] >= 2:  # keep the refinement only if the time-aware model agrees
            chain = AggregatedChain(min(refined[2] - 1, self.max_channels), 1, 1)
            try:
                check = self._short_em(
                    x, refined[0], chain, refined[1], refined[3], dt, 6 + _LONGER_ITER
                )
            except ValueError:
                check = None
            if check is not None and check[2] > bound and not self._finer([x], check):
                best = (*refined[:4], check[2])
        offset, step, n_levels, sd, _ = best
        if sd / step > _MAX_NOISE_RATIO:
            raise ValueError(
                "No lattice of equally spaced current levels was found: either no channel "
                "opens (a flat recording), or the noise hides the levels (best fit: noise "
                f"{sd / step:.2f} times the step). Give unitary_current (pA) if it is known, "
                "or check that the recording holds channel openings."
            )
        if n_levels < 2:
            raise ValueError(
                "Only one current level was found: no channel opens in this recording (a "
                "flat recording), so neither the unitary current nor the kinetics can be "
                "estimated. Give unitary_current and n_channels, or idealize a recording "
                "with openings."
            )
        self._channel_counts(n_levels - 1)  # too many levels: an error here, not later
        return Lattice(offset, step, n_levels, sd, 1), best[4]

    def _finer(self, xs, fitted):
        """Whether a fit's posterior on ``xs`` jumps by several levels at once far more
        often than its channels could (``excessive_size``): its lattice is finer than
        the channels' own. Under 1/f noise the likelihood prefers such a lattice, whose
        extra levels follow the slow noise: 3 channels of 1.2 pA (1/f noise 0.3 step)
        were read as 9-10 of 0.48-0.57 pA, 4 fast ones as 10 of 0.75 pA."""
        params, baselines = fitted[:2]
        _, xi, _ = _e_step(xs, baselines, params, None, self.n_jobs)
        return excessive_size(transition_checks(xi, params)[0]) is not None

    def _channel_counts(self, visited):
        """Candidate N for ``visited + 1`` visited levels (an error if there are too many).

        A given ``n_channels`` is a cap here, and filled after EM (``_filled``): a start
        at the given count must place the visited levels in ``0..N`` from their weights
        alone, and at a high open probability those place them as well one or two
        steps up, or upside down (10 channels given at an open probability of 0.6 on
        20,000 rows: 5 of 8 draws, macro-F1 0.000-0.099), where a start at the levels
        seen grows to the right placement by the kinetics (8 of 8).
        """
        limit = self._limit()
        if visited > limit:
            raise ValueError(
                f"The recording shows {visited + 1} current levels, more than "
                f"n_channels + 1 = {limit + 1}: raise n_channels (or max_channels), or "
                "check for a second kind of channel or sub-conductance levels."
            )
        return range(max(visited, 1), min(visited + _EXTRA_LEVELS, limit) + 1)

    def _placements(self, visited):
        """Every placement ``(n_channels, below)`` of ``visited + 1`` visited levels in
        ``0..N``, ``below`` of them never visited under the lowest."""
        return [
            (n_channels, below)
            for n_channels in self._channel_counts(visited)
            for below in range(0, min(n_channels - visited, _EXTRA_LEVELS) + 1)
        ]

    def _structure_by_em(self, x, lattice, dt, placements):
        """The placement ``(n_channels, closed)`` that short EM fits of a two-state
        channel model prefer, with the fit's ``(closed, step, noise)``."""
        x = x[:_SEARCH_ROWS]
        best, penalty = None, 0.5 * np.log(len(x))
        starts = [(AggregatedChain(n, 1, 1), lattice.step, closed, 8) for n, closed in placements]
        fits = self._short_ems(x, starts, lattice.noise_sd, dt, skip_failed=False)
        for placement, fitted in zip(placements, fits, strict=True):
            params, (baseline,), bound, _, _ = fitted
            score = (not self._finer([x], fitted), bound * len(x) - penalty * placement[0])
            if best is None or score > best[0]:
                best = (score, placement, (float(np.mean(baseline)), params.step, params.noise))
        return best[1:]

    def _structure(self, x, lattice):
        """The likeliest placements ``(n_channels, closed)`` of the levels by the time
        spent at every level, best first.

        Independent identical channels spend a Binomial(N, Po) fraction of the time with
        ``k`` open, whatever their scheme, so the visited levels' weights say which
        placement in ``0..N`` they have: with a high open probability the all-closed
        level is never visited (10 channels at Po 0.6 spend 0.008 % of the time there),
        and the binomial shape of the others places it. Every placement with up to
        three never-visited levels is scored by the weights' binomial log-likelihood at
        the fitted Po; ties go to the smaller N. The shape alone is a weak guide for
        many channels (it chose 9 channels for 10 at Po 0.6 on a drifting recording of
        300,000 rows, where short EM fits choose 10), so the best ``_PLACEMENTS`` are
        returned for the time-aware fits of ``_structure_by_em`` to choose from, with the
        lattice's own levels (none hidden) added when they are not among them.
        """
        sample = x[:: max(len(x) // _REFINE_ROWS, 1)]
        first, weights = level_weights(
            sample, lattice.offset, lattice.step, lattice.n_levels, lattice.noise_sd
        )
        visited = len(weights) - 1
        scored = []
        for n_channels, below in self._placements(visited):
            k = np.arange(len(weights)) + below
            p_open = float(np.clip(weights @ k / n_channels, 1e-9, 1 - 1e-9))
            score = float(weights @ binom.logpmf(k, n_channels, p_open))
            closed = lattice.offset + (first - below) * lattice.step
            scored.append((-score, n_channels, closed))
        scored.sort(key=lambda placement: placement[:2])
        best = [(n_channels, closed) for _, n_channels, closed in scored[:_PLACEMENTS]]
        # the peaks' levels, none hidden, always compete: the tails of a drift left in
        # the weights (a level below the lowest peak with 0.05 % of the time) ranked
        # them fourth for 3 channels at Po 0.6, and 4 channels, one never open, won
        as_seen = (max(lattice.n_levels - 1, 1), lattice.offset)
        return best if as_seen in best else [*best, as_seen]

    def _unsupervised_start(self, xs, dt):
        """Calibrate the longest recording, place its levels, choose the current's sign,
        then find every other recording's offset on that lattice."""
        longest = int(np.argmax([len(x) for x in xs]))
        x = xs[longest]
        if len(x) < _MIN_ROWS:
            raise ValueError(
                f"The longest recording has {len(x)} rows; finding the levels without "
                f"labels needs at least {_MIN_ROWS}. Fit on a longer recording, or give y."
            )
        lattice, drift, self._drift_kind = self._calibrate(x)
        sharp = lattice.noise_sd <= _BINOMIAL_MAX_NOISE * lattice.step
        flat = x - drift
        if lattice.smoothing == 1 and sharp:  # sharp levels: the binomial's best few
            placement, _ = self._structure_by_em(flat, lattice, dt, self._structure(flat, lattice))
            (n_channels, closed), step, noise = placement, lattice.step, lattice.noise_sd
        else:  # the weights of blurred levels are not reliable enough: try them all,
            # from one channel fewer than the levels seen (a level of the search's fit can
            # hold only the noise's tails: 2 channels at noise 0.6 step showed 4 levels)
            # to _EXTRA_LEVELS more (5 channels with a ramp showed 3 levels)
            seen = lattice.n_levels - 1
            options = {*self._placements(max(seen - 1, 1)), *self._placements(seen)}
            placements = [
                (n_channels, lattice.offset - below * lattice.step)
                for n_channels, below in sorted(options)
            ]
            (n_channels, _), (closed, step, noise) = self._structure_by_em(
                flat, lattice, dt, placements
            )
        chain = AggregatedChain(n_channels, self.n_closed, self.n_open)
        mirrored = closed + step * n_channels
        orientations = {"positive": [(closed, step)], "negative": [(mirrored, -step)]}
        if self.unitary_current is not None:
            sign = "positive" if self.unitary_current > 0 else "negative"
        else:
            sign = self.current_sign
        options = orientations.get(sign, orientations["positive"] + orientations["negative"])
        n_iter = _SCREEN_ITER if len(options) > 1 else 1
        starts = [(chain, signed_step, offset, n_iter) for offset, signed_step in options]
        fits = self._short_ems(
            flat[:_SCREEN_ROWS], starts, noise, dt, skip_failed=False, track=True
        )
        best = None
        for (offset, _), fitted in zip(options, fits, strict=True):
            occupancy = fitted[0].chain.initial(fitted[0].rates)[chain.level == 0].sum()
            key = (round(fitted[2], 5), occupancy)
            if best is None or key > best[0]:
                best = (key, fitted[0], offset)
        _, params, offset = best
        weights = self._count_weights(params)
        others = [other for i, other in enumerate(xs) if i != longest]
        baselines = list(
            map_threads(
                lambda other: self._start_baseline(other, params, weights), others, self.n_jobs
            )
        )
        baselines.insert(longest, offset + drift)
        return params, baselines
