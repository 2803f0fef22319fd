"""skion.kinetics: events and open probability of idealized recordings."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import trapezoid

from skion.datasets import make_patch_clamp, make_telegraph
from skion.kinetics import (
    ExponentialFit,
    bursts,
    critical_time,
    dwell_histogram,
    dwell_times,
    fit_exponentials,
    impose_resolution,
    open_probability,
    plot_dwell_histogram,
    read_dwt,
    select_components,
    write_dwt,
    write_scn,
)


def test_events_reconstruct_the_labels_and_never_cross_recordings():
    rng = np.random.default_rng(0)
    labels = np.repeat(rng.integers(0, 4, 200), rng.integers(1, 30, 200))
    groups = np.repeat(
        [5, 7, 5], [len(labels) // 3, len(labels) // 3, len(labels) - 2 * (len(labels) // 3)]
    )
    events = dwell_times(labels, 2000.0, groups=groups)
    rebuilt = np.repeat(events["level"].to_numpy(), events["n_samples"].to_numpy())
    np.testing.assert_array_equal(rebuilt, labels)
    np.testing.assert_allclose(events["duration"], events["n_samples"] / 2000.0)
    assert events["recording"].tolist()[0] == 5 and set(events["recording"]) == {5, 7}
    # Three recordings (5, 7, 5 again): each starts at 0 s and has censored first and last events.
    assert (events["start"] == 0).sum() == 3
    assert events["censored"].sum() == 6
    ends = np.cumsum(events["n_samples"].to_numpy())
    for bound in (len(labels) // 3, 2 * (len(labels) // 3)):
        assert bound in ends  # an event ends at every recording boundary
    within = events.groupby((events["start"] == 0).cumsum())
    for _, recording in within:  # start times are the sums of earlier durations
        np.testing.assert_allclose(
            recording["start"].to_numpy(),
            np.concatenate(([0], np.cumsum(recording["duration"].to_numpy())[:-1])),
        )


def test_mean_current_of_each_event():
    X, y = make_telegraph(5000, p_open=0.05, p_close=0.05, noise=0.1, step=2.0, random_state=0)
    events = dwell_times(y, 10_000, current=X)
    assert "mean_current" in events
    rows = np.repeat(np.arange(len(events)), events["n_samples"].to_numpy())
    expected = np.bincount(rows, weights=X[:, 0]) / events["n_samples"].to_numpy()
    np.testing.assert_allclose(events["mean_current"], expected)
    long = events["n_samples"] >= 20
    open_mean = events.loc[long & (events["level"] == 1), "mean_current"].mean()
    closed_mean = events.loc[long & (events["level"] == 0), "mean_current"].mean()
    assert open_mean - closed_mean == pytest.approx(2.0, abs=0.05)


def test_dwell_times_of_a_telegraph_signal_have_the_generating_means():
    """Mean open and shut times of long sampled chains match 1 / p per sample."""
    _, y = make_telegraph(400_000, p_open=0.01, p_close=0.04, noise=0.1, random_state=3)
    events = dwell_times(y, 10_000.0)
    inner = events[~events["censored"]]
    mean_open = inner.loc[inner["level"] == 1, "n_samples"].mean()
    mean_shut = inner.loc[inner["level"] == 0, "n_samples"].mean()
    assert mean_open == pytest.approx(1 / 0.04, rel=0.05)
    assert mean_shut == pytest.approx(1 / 0.01, rel=0.05)


def test_open_probability_po_and_npo():
    labels = np.array([0, 1, 2, 2, 0, 0, 0, 1, 3, 3])
    groups = np.array(["a"] * 4 + ["b"] * 4 + ["a"] * 2)
    po = open_probability(labels, n_channels=3, groups=groups)
    assert po.name == "Po" and po.attrs["n_channels"] == 3
    assert po.index.tolist() == ["a", "b"]  # runs of "a" pooled, in order of appearance
    assert po["a"] == pytest.approx((0 + 1 + 2 + 2 + 3 + 3) / 6 / 3)
    assert po["b"] == pytest.approx(1 / 4 / 3)
    npo = open_probability(labels)
    assert npo.name == "NPo" and npo.attrs["n_channels"] is None
    assert npo.iloc[0] == pytest.approx(labels.mean())


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([0, 1, -1], "whole numbers of open channels >= 0; row 2"),
        ([0, 1.5, 1], "row 1 holds 1.5"),
        ([0, np.nan, 1], "row 1"),
        ([], "non-empty 1-D"),
        ([[0, 1], [1, 0]], "non-empty 1-D"),
        (["0", "1"], "numeric"),
        ([0, 1e30], "too large"),
    ],
)
def test_bad_labels_are_refused_with_the_reason(labels, message):
    with pytest.raises(ValueError, match=message):
        dwell_times(labels, 1000)
    with pytest.raises(ValueError, match=message):
        open_probability(labels)


def test_other_bad_input_is_refused():
    with pytest.raises(ValueError, match="n_channels=2"):
        open_probability([0, 3, 1], n_channels=2)
    with pytest.raises(ValueError, match="sampling_rate"):
        dwell_times([0, 1], 0)
    with pytest.raises(ValueError, match="shape"):
        dwell_times([0, 1, 1], 1000, current=[0.0, 1.0])
    with pytest.raises(ValueError, match="infinite"):
        dwell_times([0, 1], 1000, current=[0.0, np.inf])
    with pytest.raises(ValueError, match="groups holds NaN"):
        dwell_times([0, 1], 1000, groups=[0.0, np.nan])
    with pytest.raises(ValueError, match="groups must have shape"):
        open_probability([0, 1, 1], groups=[0, 1])


def test_kinetics_import_no_tensorflow():
    code = "import sys, skion.kinetics; print('tensorflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def _sampled_mixture(taus, fractions, n, fs, seed):
    """Dwell times (s) of a mixture of exponentials observed every 1/fs: geometric in samples."""
    rng = np.random.default_rng(seed)
    tau = rng.choice(np.asarray(taus), size=n, p=fractions)
    return rng.geometric(-np.expm1(-1 / (tau * fs))) / fs


def test_fit_exponentials_recovers_two_components_of_sampled_dwells():
    d = _sampled_mixture([0.5e-3, 5e-3], [0.3, 0.7], 20_000, 10_000, seed=1)
    fit = fit_exponentials(d, 2, sampling_rate=10_000)
    np.testing.assert_allclose(fit.taus, [0.5e-3, 5e-3], rtol=0.06)
    np.testing.assert_allclose(fit.fractions, [0.3, 0.7], atol=0.03)
    assert np.all(np.abs(fit.taus - [0.5e-3, 5e-3]) < 4 * fit.stderr)
    assert fit.n_events == 20_000 and np.isfinite(fit.loglik)
    one = fit_exponentials(d, 1, sampling_rate=10_000)
    assert fit.bic < one.bic  # two components are chosen over one
    t = np.linspace(1e-4, 0.05, 2000)  # the density integrates to ~1 over its range
    assert trapezoid(fit.pdf(t), t) == pytest.approx(
        np.sum(fit.fractions * np.exp(-1e-4 / fit.taus)), rel=0.01
    )


def test_sampled_likelihood_removes_the_half_sample_bias():
    """1 ms at 10 kHz: the continuous likelihood is ~5 % long, the sampled one exact."""
    d = _sampled_mixture([1e-3], [1.0], 50_000, 10_000, seed=2)
    continuous = fit_exponentials(d, 1).taus[0]
    exact = fit_exponentials(d, 1, sampling_rate=10_000).taus[0]
    assert continuous / 1e-3 - 1 > 0.03
    assert exact == pytest.approx(1e-3, rel=0.015)


def test_truncation_below_t_min_does_not_bias_the_time_constant():
    d = _sampled_mixture([1e-3], [1.0], 50_000, 10_000, seed=3)
    fit = fit_exponentials(d, 1, t_min=1.5e-3, sampling_rate=10_000)
    assert fit.n_events == np.sum(d >= 1.5e-3 - 1e-9)
    assert fit.taus[0] == pytest.approx(1e-3, rel=0.03)


def test_open_dwell_times_of_a_telegraph_signal_end_to_end():
    _, y = make_telegraph(400_000, p_open=0.01, p_close=0.04, noise=0.1, random_state=4)
    events = dwell_times(y, 10_000.0)
    opens = events.loc[(events["level"] == 1) & ~events["censored"], "duration"]
    fit = fit_exponentials(opens, 1, sampling_rate=10_000.0)
    assert fit.taus[0] == pytest.approx(-1 / (10_000 * np.log1p(-0.04)), rel=0.05)


def test_fit_exponentials_refuses_what_it_cannot_fit():
    with pytest.raises(ValueError, match="whole numbers of samples"):
        fit_exponentials([1.5e-4, 3e-4, 4e-4], 1, sampling_rate=10_000)
    with pytest.raises(ValueError, match="positive, finite"):
        fit_exponentials([1e-3, -1e-3], 1)
    with pytest.raises(ValueError, match="too few"):
        fit_exponentials([1e-3, 2e-3, 3e-3], 2)
    with pytest.raises(ValueError, match="too few"):
        fit_exponentials([1e-3, 2e-3, 3e-3], 1, t_min=2.5e-3)
    with pytest.raises(ValueError, match="n_components"):
        fit_exponentials([1e-3, 2e-3], 0)


@pytest.mark.parametrize(
    ("taus", "fractions"), [([2e-3], [1.0]), ([0.3e-3, 3e-3, 30e-3], [0.5, 0.3, 0.2])]
)
def test_select_components_finds_the_number_of_components(taus, fractions):
    d = _sampled_mixture(taus, fractions, 20_000, 10_000, seed=5)
    fit = select_components(d, 4, sampling_rate=10_000)
    assert len(fit.taus) == len(taus)
    np.testing.assert_allclose(fit.taus, taus, rtol=0.15)


def test_impose_resolution_follows_the_hjcfit_convention():
    labels = [1, 0, 0, 0, 1, 0, 0, 2, 2, 2, 1, 1, 1, 1, 0, 0, 1, 1]
    groups = [0] * 14 + [1] * 4
    events = dwell_times(labels, 1000, groups=groups, current=np.arange(18.0))
    resolved = impose_resolution(events, 0.002)
    assert list(resolved.columns) == list(events.columns)
    # The unresolved first opening is dropped; the brief opening at 4 ms joins the shut
    # period before it, which then joins the next shut period: 3 + 1 + 2 ms.
    assert resolved["level"].tolist() == [0, 2, 1, 0, 1]
    np.testing.assert_allclose(resolved["duration"], [0.006, 0.003, 0.004, 0.002, 0.002])
    np.testing.assert_allclose(resolved["start"], [0.001, 0.007, 0.010, 0.0, 0.002])
    assert resolved["n_samples"].tolist() == [6, 3, 4, 2, 2]
    assert resolved["censored"].tolist() == [True, False, True, True, True]
    # mean current over the shut samples only (rows 1-3, 5, 6), not the brief opening's
    assert resolved["mean_current"].iloc[0] == pytest.approx(np.mean([1, 2, 3, 5, 6]))


def test_impose_resolution_on_a_telegraph_record():
    _, y = make_telegraph(100_000, p_open=0.05, p_close=0.2, noise=0.1, random_state=6)
    events = dwell_times(y, 10_000.0)
    same = impose_resolution(events, 0.0)
    pd.testing.assert_frame_equal(same, events)
    resolved = impose_resolution(events, 3e-4)
    assert resolved["duration"].min() >= 3e-4 - 1e-12  # every event is resolved
    assert (np.diff(resolved["level"]) != 0).all()  # and levels alternate
    head = events["n_samples"].to_numpy()
    dropped = head[: np.argmax(head >= 3)].sum()  # unresolved events before the first resolved
    assert resolved["n_samples"].sum() == len(y) - dropped
    assert len(resolved) < len(events)
    # Missed brief shuttings lengthen the apparent openings.
    assert (
        resolved.loc[resolved["level"] == 1, "duration"].mean()
        > events.loc[events["level"] == 1, "duration"].mean()
    )


def test_impose_resolution_needs_dwell_times_output():
    with pytest.raises(ValueError, match="lacks the column"):
        impose_resolution(pd.DataFrame({"level": [0, 1]}), 1e-3)
    with pytest.raises(ValueError, match="t_res"):
        impose_resolution(dwell_times([0, 1], 1000), -1.0)


def test_select_components_counts_the_durations_above_t_min():
    """3 durations above t_min fit one component (3 parameters would need 6 durations)."""
    d = np.array([1, 2, 3, 5, 8, 13, 21, 34, 55, 89]) / 1000
    fit = select_components(d, 3, t_min=0.03)
    assert len(fit.taus) == 1 and fit.n_events == 3


# --- bursts ----------------------------------------------------------------------------


def _c_c_o_labels(n_samples, seed):
    """A C1-C2-O channel at 10 kHz: bursts of ~1 ms openings, ~0.5 ms and ~11 ms shuttings."""
    Q = np.array([[-100.0, 100.0, 0.0], [200.0, -2200.0, 2000.0], [0.0, 1000.0, -1000.0]])
    _, y, _, _ = make_patch_clamp(n_samples, kinetics=(Q, [2]), random_state=seed)
    return y


def test_bursts_agree_with_dcprogs_segmentation():
    """skion's bursts match dcio's (DCPROGS' own code), censored edges aside."""
    from dcio.analysis.bursts import extract_bursts

    events = dwell_times(_c_c_o_labels(300_000, 3), 10_000.0)
    t_crit = critical_time(fit_exponentials(events.loc[events.level == 0, "duration"], 2))
    found = bursts(events, t_crit)
    assert len(found) > 300
    amplitudes = events["level"].to_numpy() * -1.0
    flags = np.where(events["censored"], 8, 0)
    lengths, openings = extract_bursts(events["duration"], amplitudes, t_crit, flags=flags)
    inner = found[~found["censored"]]
    first = int(found["censored"].iloc[0])  # dcio's first burst starts after an edge
    assert inner.index.tolist() == list(range(first, first + len(inner)))  # edges only
    np.testing.assert_allclose(inner["length"], lengths[first : first + len(inner)])
    np.testing.assert_array_equal(inner["n_openings"], openings[first : first + len(inner)])
    np.testing.assert_allclose(inner["open_probability"], inner["open_time"] / inner["length"])
    assert (inner["open_probability"] <= 1).all() and (inner["open_time"] > 0).all()


def test_bursts_stay_within_recordings_and_flag_cut_ones():
    labels = [0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0]  # 11 + 7 samples
    groups = [0] * 11 + [1] * 7
    found = bursts(dwell_times(labels, 1000.0, groups=groups), t_crit=0.0025)
    assert found["recording"].tolist() == [0, 0, 1]
    assert found["n_openings"].tolist() == [2, 1, 2]
    np.testing.assert_allclose(found["length"], [0.003, 0.002, 0.003])
    np.testing.assert_allclose(found["start"], [0.003, 0.009, 0.0])
    # The second burst ends with its recording, the third begins with its own.
    assert found["censored"].tolist() == [False, True, True]


def test_bursts_warn_on_several_channels_and_handle_no_openings():
    with pytest.warns(UserWarning, match="one-channel"):
        found = bursts(dwell_times([0, 0, 1, 2, 1, 0, 0], 1000.0), t_crit=0.0015)
    assert found["n_openings"].tolist() == [1]  # 1 -> 2 -> 1 is one opening
    none = bursts(dwell_times([0, 0, 0], 1000.0), t_crit=0.001)
    assert none.empty and "n_openings" in none
    with pytest.raises(ValueError, match="t_crit"):
        bursts(dwell_times([0, 1], 1000.0), t_crit=0.0)
    with pytest.raises(ValueError, match="lacks the column"):
        bursts(pd.DataFrame({"level": [0, 1]}), t_crit=0.001)


@pytest.mark.parametrize("criterion", ["number", "proportion"])
def test_critical_time_misclassifies_equally(criterion):
    fit = ExponentialFit(
        taus=np.array([2e-4, 3e-3, 0.2]),
        fractions=np.array([0.6, 0.3, 0.1]),
        loglik=0.0,
        stderr=np.full(3, np.nan),
        n_events=1000,
        t_min=0.0,
        sampling_rate=None,
    )
    for component in (0, 1):
        t = critical_time(fit, component=component, criterion=criterion)
        fast, slow = fit.taus[component], fit.taus[component + 1]
        assert fast < t < slow
        a_f, a_s = fit.fractions[[component, component + 1]]
        if criterion == "proportion":
            a_f = a_s = 1.0
        assert a_f * np.exp(-t / fast) == pytest.approx(a_s * -np.expm1(-t / slow), rel=1e-9)
    with pytest.raises(ValueError, match="at least 4 components"):
        critical_time(fit, component=2)


# --- histograms ------------------------------------------------------------------------


def test_dwell_histogram_bins_whole_samples_and_loses_nothing():
    rng = np.random.default_rng(2)
    samples = np.concatenate([rng.geometric(0.3, 4000), rng.geometric(0.005, 4000)])
    counts, edges = dwell_histogram(samples / 10_000, t_min=3e-4, sampling_rate=10_000)
    assert counts.sum() == (samples >= 3).sum()
    half = edges * 10_000 - 0.5
    np.testing.assert_allclose(half, np.round(half), atol=1e-9)  # half-way between samples
    assert edges[0] == pytest.approx(2.5e-4) and edges[-1] > samples.max() / 10_000
    assert np.all(np.diff(edges) > 0)
    with pytest.raises(ValueError, match="no duration"):
        dwell_histogram([0.001, 0.002], t_min=0.01)
    with pytest.raises(ValueError, match="positive"):
        dwell_histogram([0.001, -0.002])


def test_expected_counts_of_a_fit_match_its_histogram():
    rng = np.random.default_rng(4)
    samples = np.concatenate([rng.geometric(0.2, 20_000), rng.geometric(0.01, 20_000)])
    durations = samples / 10_000
    fit = fit_exponentials(durations, 2, t_min=3e-4, sampling_rate=10_000)
    counts, edges = dwell_histogram(durations, t_min=3e-4, sampling_rate=10_000)
    expected = fit.expected_counts(edges)
    assert expected.sum() == pytest.approx(fit.n_events, rel=1e-6)
    parts = sum(fit.expected_counts(edges, component=i) for i in range(2))
    np.testing.assert_allclose(parts, expected)
    used = expected > 5
    chi2 = np.sum((counts[used] - expected[used]) ** 2 / expected[used])
    assert chi2 < used.sum() + 4 * np.sqrt(2 * used.sum())  # a good fit, bin by bin
    # A fit of the wrong number of components misses bins by far more.
    wrong = fit_exponentials(durations, 1, t_min=3e-4, sampling_rate=10_000)
    miss = wrong.expected_counts(edges)
    assert np.sum((counts[used] - miss[used]) ** 2 / miss[used]) > 10 * chi2


def test_plot_dwell_histogram_draws_the_fit_and_its_components():
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(5)
    durations = np.concatenate([rng.geometric(0.2, 3000), rng.geometric(0.01, 3000)]) / 1e4
    fit = fit_exponentials(durations, 2, sampling_rate=10_000)
    ax = plot_dwell_histogram(durations, fit)
    assert ax.get_xscale() == "log"
    assert len(ax.lines) == 3  # the fit and its two components
    assert "ms" in ax.get_legend().get_texts()[1].get_text()


# --- event files -----------------------------------------------------------------------


def test_dwt_round_trip_of_several_recordings_and_resolved_events(tmp_path):
    rng = np.random.default_rng(8)
    labels = np.repeat(rng.integers(0, 3, 300), rng.integers(1, 20, 300))
    groups = np.repeat([4, 9], [len(labels) // 2, len(labels) - len(labels) // 2])
    current = labels * 1.5 + rng.normal(0, 0.1, len(labels))
    for events in (
        dwell_times(labels, 20_000.0, groups=groups, current=current),
        impose_resolution(dwell_times(labels, 20_000.0, groups=groups), 2e-4),
    ):
        write_dwt(events, tmp_path / "events.dwt", unitary_current=1.5)
        back = read_dwt(tmp_path / "events.dwt")
        expected = events[back.columns].copy()
        expected["recording"] = expected["recording"].map({4: 1, 9: 2})
        pd.testing.assert_frame_equal(back, expected, check_exact=False, rtol=1e-9, atol=1e-12)
    first = (tmp_path / "events.dwt").read_text().splitlines()[0]
    assert first.startswith("Segment: 1 Dwells: ") and "Sampling(ms): 0.05 " in first
    assert first.endswith("ClassCount: 3 0 0 1.5 0 3 0")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no 'Segment:' header"),
        ("0\t1.5\n", "expected a 'Segment:' header"),
        ("Segment: 1 Dwells: 2 Sampling(ms): 0.1 Start(ms): 0 ClassCount: 1 0 0\n0\t1\n", "2"),
        ("Segment: 1 Dwells: 1 Sampling(ms): 0 Start(ms): 0 ClassCount: 1 0 0\n0\t1\n", "> 0"),
        ("Segment: 1 Dwells: 1 Sampling(ms): 0.1 Start(ms): 0 ClassCount: 1 0 0\nx\t1\n", "class"),
        ("Segment: 1 Dwells: 1 Sampling(ms): 0.1 Start(ms): 0 ClassCount: 1 0 0\n0\t-1\n", "> 0"),
        ("Segment: x Dwells: 1 Sampling(ms): 0.1 Start(ms): 0 ClassCount: 1 0 0\n", "header"),
    ],
)
def test_read_dwt_names_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "bad.dwt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_dwt(path)


def test_writers_refuse_what_their_format_cannot_hold(tmp_path):
    mixed = pd.concat(
        [dwell_times([0, 1, 1], 1000.0), dwell_times([0, 1, 1], 2000.0, groups=[1, 1, 1])]
    )
    with pytest.raises(ValueError, match="different sampling rates"):
        write_dwt(mixed, tmp_path / "mixed.dwt")
    with pytest.raises(ValueError, match="empty"):
        write_dwt(dwell_times([0, 1], 1000.0).iloc[:0], tmp_path / "empty.dwt")
    with pytest.raises(ValueError, match="one recording"):
        write_scn(dwell_times([0, 1, 0, 1], 1000.0, groups=[0, 0, 1, 1]), tmp_path / "two.scn")
    with pytest.raises(ValueError, match="at most 32"):
        write_scn(dwell_times([0, 40, 0], 1000.0), tmp_path / "many.scn")
    with pytest.raises(ValueError, match="unitary_current"):
        write_scn(dwell_times([0, 1], 1000.0), tmp_path / "zero.scn", unitary_current=0.0)


def test_scn_round_trip_through_dcprogs_reader(tmp_path):
    from dcio.formats.scn import read

    events = impose_resolution(dwell_times(_c_c_o_labels(50_000, 1), 10_000.0), 2e-4)
    write_scn(events, tmp_path / "record.scn", unitary_current=-2.3)
    record = read(tmp_path / "record.scn")
    assert record.header.version == -103 and record.n_intervals == len(events)
    np.testing.assert_allclose(record.intervals, events["duration"], rtol=1e-6)
    np.testing.assert_allclose(record.amplitudes, -2.3 * events["level"], rtol=1e-6)
    np.testing.assert_array_equal(record.usable_mask, ~events["censored"].to_numpy())
    assert record.open_mask.sum() == (events["level"] > 0).sum()


def test_impose_resolution_refuses_to_merge_everything_away():
    events = dwell_times([0, 0, 1, 0, 0, 0, 1, 1, 0], 1000.0)
    with pytest.raises(ValueError, match="longer than every event"):
        impose_resolution(events, 0.004)
    with pytest.warns(UserWarning, match="longer than 80 % of the events"):
        impose_resolution(events, 0.0025)
