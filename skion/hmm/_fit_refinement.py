"""AggregatedHMM without labels, after EM: levels moved by whole steps, channels added or
taken away, the sign chosen again, the open-channel noise, and the check that the current
has a lattice at all."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from .._threads import map_threads
from ..exceptions import AmbiguousFitWarning
from ._aggregated_chain import AggregatedChain
from ._calibration import MIN_PEAK_MASS as MIN_LEVEL_MASS
from ._calibration import (
    level_weights,
    noise_sd,
)
from ._count_kernels import (
    block_log_likelihoods,
    count_emission,
)
from ._open_noise import expected_loglik, fit_open_noise, level_squares
from ._posterior import _MIN_NOISE_RATIO, _e_step
from ._slow_noise import SLOW_NOISE_LIMIT
from ._transition_checks import deficient_edge, entry_shortfall, rarely_entered

#: A fitted noise this many times the sample-to-sample noise means no lattice.
_MAX_NOISE_EXCESS = 8.0
#: A baseline moving over more unitary steps than this means no lattice.
_MAX_BASELINE_STEPS = 50.0
#: Rows of the warm-up EM that precedes EM on long data.
_WARM_ROWS = 250_000
#: Log-likelihood (nats) under which the two readings of the current's sign are a close
#: call: measured on 40 random cells of 1-8 channels (40,000-150,000 rows), the sign was
#: settled by 89-358 nats on fast kinetics and by 17-48 on slow ones (few transitions),
#: where the wrong reading once won by 20 (8 slow channels on 42,724 rows).
_SIGN_MARGIN = 30.0
#: Rows on which the mirror is first fitted, on data at least twice as long.
_MIRROR_ROWS = 50_000
#: Expected log-likelihood (nats) the open-channel noise must gain on the white fit's
#: posteriors before EM is run with it.
_OPEN_NOISE_GAIN = 10.0
#: Whole unitary steps (either way) by which the level check may move a block's baseline.
_MAX_LEVEL_SHIFT = 2
#: Baseline windows per block of the level check.
_SHIFT_BLOCK_WINDOWS = 2
#: Log-likelihood a block must gain to have its baseline moved by whole steps.
_MIN_SHIFT_GAIN = 3.0
#: Level checks (each followed by EM, or by baseline tracking when predicting).
_SHIFT_ROUNDS = 3
#: Rows per chunk of the level check's emission table.
_SHIFT_CHUNK_BLOCKS = 50
#: The current's sign is chosen again on the final lattice when the channel count, or
#: the step by more than this fraction, changed after the sign was chosen.
_REORIENT_CHANGE = 0.1
#: At the largest channel count (the given ``n_channels``, or ``max_channels``), a
#: baseline one step lower is tried where the fit's all-closed level is rarer than this
#: (and its top level holds no samples), whatever its open probability.
_RARE_CLOSED = 0.01


def _shifted_emissions(x, baseline, params, shifts):
    """Count emissions of ``x`` with its baseline moved by every number of steps of
    ``shifts``, each row scaled by one number for all of them (so that their forward
    passes compare); with open-channel noise, made one shift at a time."""
    n_counts = params.chain.n_channels + 1
    if params.excess is None:  # one table of counts shifts[0]..N + shifts[-1]
        em, _ = count_emission(
            x,
            baseline + shifts[0] * params.step,
            params.step,
            params.noise,
            n_counts + shifts[-1] - shifts[0],
        )
        return [em[:, i : i + n_counts] for i in range(len(shifts))]
    variance = params.sd(np.arange(n_counts)) ** 2
    levels = params.step * np.arange(n_counts)

    def log_emission(shift):
        r = (x - baseline - shift * params.step)[:, None] - levels
        return -0.5 * (r * r / variance + np.log(variance))

    top = np.max([log_emission(shift).max(axis=1) for shift in shifts], axis=0)
    return (np.exp(log_emission(shift) - top[:, None]) for shift in shifts)


def _continued(fitted, refit):
    """``_em``'s tuple of ``refit``, counting the iterations of ``fitted`` before it."""
    return (*refit[:3], fitted[3] + refit[3], refit[4])


class _FitRefinement:
    """How ``AggregatedHMM`` mends the first EM fit (a mixin of its methods)."""

    def _shift_levels(self, xs, baselines, params):
        """Baselines with every block moved by the whole number of unitary steps that its
        likelihood prefers, and whether any block moved.

        The baseline's M-step is a smoothing of the residual, so EM cannot leave a fit
        where part of a recording is decoded a whole level off: one more channel open
        and the baseline one step lower explain every sample equally well, only the
        kinetics and the occupancy of the counts tell them apart, and every path between
        the two passes through baselines half a step off that explain nothing. Measured
        on 10 channels at an open probability of 0.6 (noise 0.3 step, a ramp drift):
        the tracked baseline slid by one and then two steps over the second half of a
        recording (macro-F1 0.50, oracle 0.94). Each block of ``_SHIFT_BLOCK_WINDOWS``
        baseline windows is scored by a forward pass from the stationary distribution
        with its baseline moved by ``-2..2`` steps; a move is kept where it gains more
        than ``_MIN_SHIFT_GAIN`` (on that recording the right moves gained 5-180 per
        4,000 rows and wrong ones lost 10 or more).
        """
        chain = params.chain
        A = chain.transition(params.rates, params.dt)
        initial = chain.initial(params.rates)
        shifts = np.arange(-_MAX_LEVEL_SHIFT, _MAX_LEVEL_SHIFT + 1)
        window = self._window()

        def one(recording):
            x, baseline = recording
            block = len(x) if window is None else _SHIFT_BLOCK_WINDOWS * window
            chunk = block * _SHIFT_CHUNK_BLOCKS
            scores = []
            for start in range(0, len(x), chunk):
                rows = slice(start, start + chunk)
                scores.append(
                    [
                        block_log_likelihoods(em, chain.level, A, initial, block)
                        for em in _shifted_emissions(x[rows], baseline[rows], params, shifts)
                    ]
                )
            scores = np.concatenate(scores, axis=1)
            best = scores.argmax(axis=0)
            gain = scores[best, np.arange(scores.shape[1])] - scores[_MAX_LEVEL_SHIFT]
            move = np.where(gain > _MIN_SHIFT_GAIN, shifts[best], 0)
            if not move.any():
                return baseline, False
            return baseline + params.step * np.repeat(move, block)[: len(x)], True

        results = list(map_threads(one, zip(xs, baselines, strict=True), self.n_jobs))
        return [baseline for baseline, _ in results], any(moved for _, moved in results)

    def _settle_levels(self, xs, fitted):
        """EM again from baselines moved by whole levels (``_shift_levels``) while that
        raises the likelihood; ``fitted`` and the result are ``_em``'s tuples."""
        for _ in range(_SHIFT_ROUNDS):
            shifted, moved = self._shift_levels(xs, fitted[1], fitted[0])
            if not moved:
                break
            refit = self._em(
                xs, shifted, fitted[0], None, self.max_iter, self.tol, stage="EM, levels moved,"
            )
            if refit[2] <= fitted[2]:
                break
            fitted = _continued(fitted, refit)
        return fitted

    def _edge_level(self, xs, baselines, params, side):
        """The lowest (``side="below"``) or highest (``"above"``) count that holds at
        least ``MIN_LEVEL_MASS`` samples (by a mixture fit of the edge levels' weights)
        in any recording, counts below 0 and above N included (0 or N - 1 where no
        recording holds one beyond them)."""
        n_channels = params.chain.n_channels
        below = side == "below"
        edge_level = 0 if below else n_channels - 1
        noise = float(params.sd(edge_level)) / abs(params.step)
        for x, baseline in zip(xs, baselines, strict=True):
            counts = (x - baseline) / params.step
            edge = counts[counts < 0.5] if below else counts[counts > n_channels - 1.5]
            if len(edge) < MIN_LEVEL_MASS:
                continue
            if below:
                first, _ = level_weights(edge, 0, 1.0, 1, noise)
                edge_level = min(edge_level, first)
            else:
                first, weights = level_weights(edge, n_channels - 1, 1.0, 2, noise)
                edge_level = max(edge_level, n_channels - 2 + first + len(weights))
        return edge_level

    def _grow_above(self, xs, fitted):
        """More channels where a recording visits levels above the fitted N, if EM with
        them explains the data better (by BIC); ``fitted`` and the result are ``_em``'s
        tuples.

        The channel count is placed on the longest recording's first rows, where the
        highest levels of many slow channels may be missing: 7 channels at an open
        probability of 1/3 were fitted as 5 when 6 opened at once only in the other
        recording (142 samples), and 8 as 6 with 7 open in 0.3 % of the rows; every such
        sample was decoded a level low (-15 and -14 macro-F1 points).
        """
        params, baselines = fitted[:2]
        n_channels = min(self._edge_level(xs, baselines, params, "above"), self._limit())
        if n_channels <= params.chain.n_channels:
            return fitted
        return self._placed(xs, fitted, n_channels, baselines)

    def _raised(self, xs, fitted):
        """One channel fewer, every recording's baseline found again for it
        (``_start_baseline``), where a recording never visits count 0, if EM from there
        explains the data better (by the likelihood alone: the placement has as many
        parameters); ``fitted`` (after ``_grow_below``) and the result are ``_em``'s
        tuples. Only where the channel count is found (``n_channels="auto"``).

        The converse of ``_grow_below``'s lower placement. The start places the levels
        of each stretch of a recording by whole steps, and where the all-closed level is
        rare some stretches land a step off; EM and the level shifts then keep a fit
        that no single move up or down improves. 6 channels at an open probability of
        0.61 (all closed on 0.4 % of the rows, noise 0.25 step; random cell 3016 of
        ``benchmarks/idealization_grid.py --draws``) were fitted as 7, one recording's
        baseline a step down, every count of it read one high (macro-F1 0.006 on
        131,480 rows, the same on 30,000 of them); raised, 6,800 nats likelier (0.981).
        """
        params, baselines = fitted[:2]
        n_channels = params.chain.n_channels
        if self.n_channels != "auto" or n_channels < 2:
            return fitted
        if all(
            self._edge_level([x], [b + params.step], params, "below") < 0
            for x, b in zip(xs, baselines, strict=True)
        ):
            return fitted
        fewer = replace(params, chain=AggregatedChain(n_channels - 1, self.n_closed, self.n_open))
        weights = self._count_weights(fewer)
        raised = list(
            map_threads(lambda x: self._start_baseline(x, fewer, weights), xs, self.n_jobs)
        )
        return self._placed(xs, fitted, n_channels - 1, raised, penalized=False)

    def _grow_below(self, xs, fitted):
        """More channels, or the same ones, under a baseline moved down where the
        all-closed level may be missing, if EM with them explains the data better;
        ``fitted`` (its sign settled, see ``_reoriented``) and the result are ``_em``'s
        tuples.

        At a high open probability the all-closed level is so rare that the levels alone
        cannot place the baseline: 10 channels at an open probability of 0.6 (all closed
        on 0-7 of 20,000-60,000 rows) were fitted as 9 channels with the baseline one
        step up, every sample decoded one count low (macro-F1 0.002-0.03); only the
        kinetics tell the two apart (closing rates in proportion to the open channels).
        Levels below count 0 that hold samples in any recording are added first (by
        BIC). Then, while the fitted open probability exceeds one half, the baseline is
        tried one step lower, with one more channel (the same number at the given
        ``n_channels`` or at ``max_channels``, unless the top level holds samples: they would
        need one channel more; on 1,000,000 rows of 10 channels that hopeless EM cost
        133 s, twice the fit). At the largest count, a lattice placed too high reads
        every count low, so its open probability falls under one half: it is tried
        lower too where its all-closed level is rarer than ``_RARE_CLOSED`` (10 channels
        given at an open probability of 0.6 on 20,000 rows, started at 10, were placed
        one or two steps up in 4 of 8 draws, fitted open probabilities 0.39-0.49,
        macro-F1 0.000-0.004; 0.990-0.996 with this rule alone). A lower placement is
        kept if the likelihood rises at all: that
        placement has as many parameters as the fit, and the right one won by 1.6-28
        nats on 20,000 rows of 10 channels, the wrong one lost by 0.3-8.6 on 9 (8
        draws each; BIC's penalty of 5 nats left 3 of 16 a count off). Before the sign
        is settled, the levels below may be those above a count read upside down: 4
        bursting channels under a 1 kHz filter, fitted as 4 of the wrong sign, grew to 5
        (macro-F1 0.015).
        """
        limit = self._limit()
        if fitted[0].chain.n_channels < limit:
            params, baselines = fitted[:2]
            below = -self._edge_level(xs, baselines, params, "below")
            n_channels = min(params.chain.n_channels + below, limit)
            if n_channels > params.chain.n_channels:
                lower = [b - below * params.step for b in baselines]
                fitted = self._placed(xs, fitted, n_channels, lower)
        while True:
            params, baselines = fitted[:2]
            n_channels = params.chain.n_channels
            p_open = self._open_probability(params)
            if n_channels < limit:
                if p_open <= 0.5:
                    break
                n_channels += 1
            elif p_open <= 0.5 and self._all_closed(params) >= _RARE_CLOSED:
                break
            elif self._edge_level(xs, baselines, params, "above") >= n_channels:
                break  # one step lower, the samples at the top level need a count N + 1
            lower = [b - params.step for b in baselines]
            placed = self._placed(xs, fitted, n_channels, lower, penalized=False)
            if placed is fitted:
                break
            fitted = placed
        return fitted

    def _open_channel_noise(self, xs, fitted, labels=None):
        """The fit with open-channel noise (the variance growing by ``excess ** 2`` per
        open channel), and then one channel fewer, where either explains the data better
        (``fitted``, white, and the result are ``_em``'s tuples). With ``labels`` (the
        counts known), EM with it, kept by BIC.

        The white fit reads the wider levels of many open channels as more levels:
        3 fast channels whose noise sd grows from 0.2 step (all closed) by 0.25 step in
        quadrature per open channel were fitted as 4, 185 of 100,000 rows decoded at the
        fourth level (macro-F1 0.762, 0.953 over the true counts). The white fit's
        posteriors first tell how much the open-channel noise would gain (an EM step's
        lower bound on the gain); only beyond ``_OPEN_NOISE_GAIN`` nats is EM run with
        it, kept by BIC (one parameter more), and then one channel fewer at a time,
        each kept by the likelihood alone, where the count is found
        (``n_channels="auto"``): 5 bursting channels under that noise, fitted as 7 white,
        lost the seventh by 26 nats.
        """
        params, baselines = fitted[:2]
        posteriors, _, _ = _e_step(xs, baselines, params, labels, self.n_jobs, moments=True)
        rows, squares = level_squares(posteriors, params.step)
        floor = _MIN_NOISE_RATIO * abs(params.step)
        noise, excess = fit_open_noise(rows, squares, params.step, floor, (params.noise, 0.0))
        gain = expected_loglik(rows, squares, noise, excess) - expected_loglik(
            rows, squares, params.noise, 0.0
        )
        if self.verbose:
            print(f"Open-channel noise: sd {excess:.4g}, gain {gain:.1f} nats by the white fit")
        if gain <= _OPEN_NOISE_GAIN:
            return fitted
        start = replace(params, noise=noise, excess=excess)
        if labels is not None:
            refit = self._em(xs, baselines, start, labels, self.max_iter, self.tol)
            n_total = sum(len(x) for x in xs)
            gained = (refit[2] - fitted[2]) * n_total > 0.5 * np.log(n_total)
            return _continued(fitted, refit) if gained else fitted
        chosen = self._better(xs, fitted, start, baselines, "open-channel noise", 0.5)[0]
        if chosen is fitted or self.n_channels != "auto":
            return chosen
        while chosen[0].chain.n_channels > 1:
            chain = AggregatedChain(chosen[0].chain.n_channels - 1, self.n_closed, self.n_open)
            fewer = replace(chosen[0], chain=chain)
            stage = "open-channel noise, one channel fewer"
            fitted, chosen = chosen, self._better(xs, chosen, fewer, chosen[1], stage, 0.0)[0]
            if chosen is fitted:
                break
        return chosen

    def _trimmed(self, xs, fitted, checks):
        """One channel fewer while the noise is not white (a slow-noise ratio above
        ``SLOW_NOISE_LIMIT``) and the fit's count 0 or N is entered far less often than
        its chain would enter it (``deficient_edge``): a level that the slow noise
        alone reaches. Takes and returns a fit (``_em``'s tuple) with its
        ``_model_checks``. Only where the count is found (``n_channels="auto"``).

        The likelihood prefers such a level: under 1/f noise (0.3 step) 3 fast channels
        of 1.2 pA were fitted as 4 on 4 of 10 draws of 30,000 rows (the lowest count
        entered 26 times for the chain's 113, or the highest 11-16 for 30-37), by 55-126
        nats over 3, every count read one high or the top one split (macro-F1 0.014 and
        0.78-0.79; trimmed, 0.979-0.987). Where the noise is white the edges are left:
        a channel that ran down after the first tenth of 60,000 rows (3 fast channels,
        then 2) left its count 3 entered 61 times for the chain's 209, and is real
        (trimmed, macro-F1 0.994 -> 0.740).
        """
        while (
            self.n_channels == "auto"
            and fitted[0].chain.n_channels > 1
            and checks[0] > SLOW_NOISE_LIMIT
        ):
            side = deficient_edge(checks[2])
            if side is None:
                break
            params, baselines = fitted[:2]
            if self.verbose:
                print(f"Count {'0' if side == 'below' else 'N'} rarely entered: one channel fewer")
            if side == "below":
                baselines = [b + params.step for b in baselines]
            chain = AggregatedChain(params.chain.n_channels - 1, self.n_closed, self.n_open)
            refit = self._em(
                xs, baselines, replace(params, chain=chain), None, self.max_iter, self.tol,
                stage="EM, one channel fewer,",
            )  # fmt: skip
            fitted = _continued(fitted, self._settle_levels(xs, refit))
            checks = self._model_checks(xs, fitted, None)
        return fitted, checks

    def _filled(self, xs, fitted):
        """EM with the given ``n_channels``, the channels missing from ``fitted`` added
        above its levels (never visited), its levels settled (``_em``'s tuples)."""
        params, baselines = fitted[:2]
        chain = AggregatedChain(int(self.n_channels), self.n_closed, self.n_open)
        refit = self._em(
            xs,
            baselines,
            replace(params, chain=chain),
            None,
            self.max_iter,
            self.tol,
            stage="EM, channels given,",
        )
        return _continued(fitted, self._settle_levels(xs, refit))

    def _placed(self, xs, fitted, n_channels, baselines, *, penalized=True):
        """EM with ``n_channels`` channels from ``baselines``, its levels settled, kept if
        it beats ``fitted`` (``fitted`` and the result are ``_em``'s tuples): by BIC for
        channels added on the same baseline (``penalized``), by the likelihood alone
        for a placement with as many parameters.

        The levels are settled (``_settle_levels``) before the comparison: a baseline
        moved down by a step carries the blocks the smaller fit had decoded a level off
        into the grown one. 10 channels at an open probability of 0.6 on 20,000 rows,
        calibrated as 6 channels and grown one at a time: the tenth channel gained 3.6
        nats unsettled (every count decoded one low, macro-F1 0.004), 9.7 settled
        (0.992).
        """
        params = fitted[0]
        grown = replace(params, chain=AggregatedChain(n_channels, self.n_closed, self.n_open))
        added = n_channels - params.chain.n_channels
        return self._better(
            xs, fitted, grown, baselines, "placed", 0.5 * added if penalized else 0.0
        )[0]

    def _better(self, xs, fitted, start, baselines, stage, penalty, first=None, *, close=0.0):
        """``(chosen, margin, candidate)``: ``fitted``, or EM from ``start`` and
        ``baselines`` with its levels settled if that gains more than ``penalty`` times
        the log of the rows in log-likelihood (``fitted`` and ``chosen`` are ``_em``'s
        tuples); ``margin`` is the candidate's gain beyond that, in nats, on the last
        rows compared; ``candidate`` is its fit on every row (``None`` where it lost on
        the first rows, or is on a finer lattice than ``fitted``, see ``_finer``).

        On long data the candidate is first fitted on the first rows (``first``, rising
        row counts, each used where the data are at least twice as long; by default the
        warm-up's) and compared there with ``fitted`` refitted on the same rows; only a
        candidate that wins on those rows, or loses there by less than ``close`` nats,
        goes on to the next, and at last to every row. The mirror and the lower
        placements are refitted on every fit, and on 1,000,000 rows of 10 channels EM
        from their starts on all rows took 6 times as long as the fit itself.
        """
        for rows in (_WARM_ROWS,) if first is None else first:
            heads = self._heads(xs, rows)
            if heads is None:
                continue
            head = [x[:k] for x, k in zip(xs, heads, strict=True)]
            n_head = sum(heads)
            here = self._em(
                head,
                [b[:k] for b, k in zip(fitted[1], heads, strict=True)],
                fitted[0],
                None,
                self.max_iter,
                self.tol,
            )
            there = self._em(
                head,
                [b[:k] for b, k in zip(baselines, heads, strict=True)],
                start,
                None,
                self.max_iter,
                self.tol,
                stage=f"EM, {stage}, on the first {n_head:,} rows,",
            )
            there = self._settle_levels(head, there)
            margin = (there[2] - here[2]) * n_head - penalty * np.log(n_head)
            if margin <= -close:
                return fitted, margin, None
            start = there[0]
        refit = self._em(xs, baselines, start, None, self.max_iter, self.tol, stage=f"EM, {stage},")
        refit = self._settle_levels(xs, refit)
        n_total = sum(len(x) for x in xs)
        margin = (refit[2] - fitted[2]) * n_total - penalty * np.log(n_total)
        if margin <= 0:
            return fitted, margin, refit
        if self._finer(xs, refit) and not self._finer(xs, fitted):
            return fitted, margin, None
        return _continued(fitted, refit), margin, refit

    @staticmethod
    def _all_closed(params):
        """Stationary probability that every channel is closed."""
        chain = params.chain
        return float(chain.initial(params.rates)[chain.level == 0].sum())

    @staticmethod
    def _open_probability(params):
        """Stationary fraction of the channels that are open."""
        chain = params.chain
        return float(chain.initial(params.rates) @ chain.level) / chain.n_channels

    def _reoriented(self, xs, fitted, oriented):
        """The fit, or its mirror (every count ``k`` read as ``N - k``, the step's sign
        reversed) refitted by EM if that explains the data better, where the lattice
        changed after the sign was chosen on it (``oriented``: the start's parameters).

        The sign is chosen on the calibrated lattice, but EM may then move to another:
        four bursting channels (-2 pA, 1 kHz filter, a random walk of two steps) were
        calibrated as three channels of 3.4 pA, on which the positive sign explained the
        first rows better; EM found the right four channels of 2.1 pA and kept the sign,
        every count read upside down (macro-F1 0.18; with the sign given, 0.95).

        On an unchanged lattice the mirror is tried too, unless the scheme is its own
        mirror (as many closed as open states: both readings then explain the data
        equally, and the start's choice stands). Only the kinetics tell the two readings
        apart, and the start judges them after a few EM iterations: 9 channels at an
        open probability of 0.6 on 20,000 rows were read upside down in 4 draws of 4
        (the start preferred the mirror by 29-380 nats; at convergence the right sign
        wins by 54-120 nats; macro-F1 0.001 -> 0.99).

        On long data the mirror is fitted on the first 50,000 rows before the warm-up's
        250,000 (``_better``): where it won on all rows (9 channels at 0.6 on 200,000
        rows, read upside down by the start, 2 draws) it won there too, and where it
        lost on all rows (10 channels on 300,000, 6 on 150,000, 3 slow channels on
        150,000; 6 draws) it lost there, with the same counts in every draw.

        A channel that runs down misleads the likelihood: 3 bursting channels for the
        first 5-15 % of 60,000 rows, then 2, were read upside down on 10 of 24 draws
        (macro-F1 0.001-0.005, twice without a warning; the mirror won by 10-36 nats).
        Read the right way up, the top count is entered far less often than the chain
        (which holds every channel throughout) would enter it; upside down, count 0 is,
        by a Poisson shortfall (``entry_shortfall``) of 28-68 nats. Under white noise
        (under slow noise such an edge is a level the noise alone reaches, see
        ``_trimmed``), where only one reading's count 0 is so rarely entered, the other
        is taken if that shortfall exceeds the likelihood's margin, and the warning says
        why either way (``_rundown_evidence``): 23 of 24 right (0.974-1.000), the last
        warned (margin 33, shortfall 28). Where the likelihood decides by far more
        (5 fast channels for a fifth of the rows, then 2, fitted as 5: 364-382 nats
        against 91-147), the sign stands, and the warning says that the channels change.
        """
        params, baselines = fitted[:2]
        chain = params.chain
        changed = abs(abs(params.step) / abs(oriented.step) - 1) > _REORIENT_CHANGE
        if (
            self.unitary_current is not None
            or self.current_sign != "auto"
            or (
                self.n_closed == self.n_open
                and chain.n_channels == oriented.chain.n_channels
                and not changed
            )
        ):
            return fitted
        mirrored = [b + params.step * chain.n_channels for b in baselines]
        rates = self._initial_rates(chain, xs, mirrored, -params.step)
        start = replace(params, chain=chain, rates=rates, step=-params.step)
        chosen, margin, candidate = self._better(
            xs,
            fitted,
            start,
            mirrored,
            "mirrored",
            0.0,
            first=(_MIRROR_ROWS, _WARM_ROWS),
            close=_SIGN_MARGIN,
        )
        other = candidate if chosen is fitted else fitted
        evidence = None if other is None else self._rundown_evidence(xs, chosen, other)
        if evidence is not None and evidence > abs(margin):
            chosen = fitted if chosen is not fitted else _continued(fitted, other)
            why = (
                f"{abs(margin):.0f} nats more likely, but count 0 is then entered far less "
                "often than the channels' kinetics would enter it; read this way up, that "
                "is the top count, as a channel that runs down leaves it"
            )
        elif evidence is not None:
            why = (
                f"{abs(margin):.0f} nats less likely, but read this way up count 0 is "
                "entered far less often than the channels' kinetics would enter it, as "
                "the mirror of a channel that runs down leaves it (channels that run down "
                "or up within a recording are not in the model: idealize the stretches "
                "apart)"
            )
        elif abs(margin) >= _SIGN_MARGIN:
            return chosen
        else:
            why = (
                f"only {abs(margin):.0f} nats less likely; only the kinetics tell the two "
                "apart, and few transitions show them"
            )
        step = chosen[0].step
        warnings.warn(
            "The direction of the current is uncertain: read the other way up (every "
            f"count k as {chosen[0].chain.n_channels} - k, unitary current {-step:.3g} "
            f"instead of {step:.3g}) the recordings are {why}. If the current is known to "
            "be outward or inward, give current_sign='positive' or 'negative' (or "
            "unitary_current).",
            AmbiguousFitWarning,
            stacklevel=2,
        )
        return chosen

    def _rundown_evidence(self, xs, chosen, other):
        """Nats by which ``chosen``'s count 0 is entered too rarely for its chain (the
        Poisson ``entry_shortfall``) beyond ``other``'s, the other reading of the sign;
        ``None`` unless ``chosen``'s count 0 is rarely entered (``rarely_entered``)
        under white noise and ``other``'s is not. ``other`` then reads a channel that
        runs down (or up), its top count rarely entered. Under slow noise a rarely
        entered edge is a count that the noise alone reaches (``_trimmed``)."""
        ratio, _, entries = self._model_checks(xs, chosen, None)
        if ratio > SLOW_NOISE_LIMIT or not rarely_entered(*entries["below"]):
            return None
        against = self._model_checks(xs, other, None)[2]["below"]
        if rarely_entered(*against):
            return None
        return entry_shortfall(*entries["below"]) - entry_shortfall(*against)

    def _check_lattice(self, xs, baselines, params, bound):
        """Refuse a fit that is no lattice: no better than noise around a baseline
        (by BIC: a flat recording of white noise fits a fake lattice of 1.4 noise sd),
        a noise that dwarfs the sample-to-sample noise
        (the current glides between the levels; measured ratios 0.9 unfiltered, 2.8 and
        5.3 under 4-pole filters at a tenth and a twentieth of the sampling rate, 12 for
        a whole-cell decay and a sine), or a baseline that wanders over more than
        ``_MAX_BASELINE_STEPS`` steps (it tracked a large smooth current, and the
        "levels" are noise: 700 steps for a whole-cell decay)."""
        n_total = sum(len(x) for x in xs)
        residual_sq = sum(float(np.sum((x - self._baseline(x)) ** 2)) for x in xs)
        null = -0.5 * n_total * (np.log(2 * np.pi * residual_sq / n_total) + 1.0)
        penalty = 0.5 * (len(params.rates) + 2) * np.log(n_total)
        if bound * n_total - null < penalty:
            raise ValueError(
                "No channel openings found: a lattice of current levels explains the "
                "recording no better than noise around a slowly varying baseline (no "
                "openings, a smooth whole-cell current or voltage trace, or levels far "
                "below the noise). Idealize a single-channel recording with openings."
            )
        span = max(float(np.ptp(b)) for b in baselines) / abs(params.step)
        if span > _MAX_BASELINE_STEPS:
            raise ValueError(
                "No lattice of equally spaced current levels fits the recording: its "
                f"baseline would have to move over {span:.0f} unitary steps (of "
                f"{params.step:.3g}); the current is a large smooth signal (a whole-cell "
                "current or a voltage trace?). Idealize single-channel recordings only."
            )
        white = noise_sd(max(xs, key=len))
        # the noise's rms over the counts (their stationary weights): open-channel noise
        # can put a glide's spread on the upper levels alone
        k = np.arange(params.chain.n_channels + 1)
        noise = float(np.sqrt(self._count_weights(params) @ params.sd(k) ** 2))
        if white > 0 and noise > _MAX_NOISE_EXCESS * white:
            raise ValueError(
                "No lattice of equally spaced current levels fits the recording: the "
                f"current departs from the best lattice (step {params.step:.3g}) by "
                f"{noise / white:.0f} times its sample-to-sample noise, so it glides "
                "between values rather than jumping between levels (a whole-cell current "
                "or a voltage trace?). Idealize single-channel recordings only."
            )

    @staticmethod
    def _heads(xs, rows=None):
        """Rows of every recording in the first ``rows`` rows (shared in proportion to
        their lengths; the warm-up's by default); ``None`` where the data are not twice
        as long."""
        rows = _WARM_ROWS if rows is None else rows
        n_total = sum(len(x) for x in xs)
        if n_total <= 2 * rows:
            return None
        return [max(len(x) * rows // n_total, 2) for x in xs]
