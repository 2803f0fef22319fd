"""Jumps of several levels at once, against what independent channels make: a fit on a
lattice finer than the channels' own is said, never silent."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import f1_score

from skion import AggregatedHMM
from skion.datasets import make_patch_clamp
from skion.exceptions import AmbiguousFitWarning
from skion.hmm._aggregated_chain import AggregatedChain
from skion.hmm._joint_jumps import joint_jumps

from .conftest import pink_recording

JOINT = r"jump by \d or more levels at once"


def test_the_chains_own_transitions_are_expected_and_doubled_ones_seen():
    chain = AggregatedChain(4, 2, 1)
    A = chain.transition(np.array([300.0, 800.0, 500.0, 200.0]), 1e-4)
    occupancy = chain.initial(np.array([300.0, 800.0, 500.0, 200.0])) * 50_000
    xi = occupancy[:, None] * A  # transitions just as the chain makes them
    seen, expected = joint_jumps(xi, A, chain.level)
    assert seen == pytest.approx(expected) and expected > 0
    seen3, expected3 = joint_jumps(xi, A, chain.level, size=3)
    assert seen3 == pytest.approx(expected3) and 0 < expected3 < expected
    # 100 jumps from all closed to two open, beyond the chain's
    two_open = np.flatnonzero(chain.level == 2)[0]
    xi[0, two_open] += 100.0
    seen, expected_after = joint_jumps(xi, A, chain.level)
    assert seen == pytest.approx(expected + 100.0)
    # the all-closed state's occupancy (its row of xi) grew by 100 jumps
    several = np.abs(chain.level - chain.level[0]) >= 2
    assert expected_after == pytest.approx(expected + 100.0 * A[0, several].sum(), rel=1e-9)
    assert joint_jumps(xi, A, chain.level, size=3)[0] == pytest.approx(seen3)


@pytest.mark.parametrize(
    ("jumps", "said"),
    [
        ({2: (1_500.0, 1_000.0), 3: (10.0, 10.0)}, None),  # 1.5 times: not above
        ({2: (1_510.0, 1_000.0), 3: (10.0, 10.0)}, 2),
        ({2: (1_000.0, 1_000.0), 3: (170.0, 100.0)}, 3),  # of three or more alone
        ({2: (1_000.0, 1_000.0), 3: (159.0, 100.0)}, None),  # 1.59 times: not above
        ({2: (1_000.0, 1_000.0), 3: (110.0, 64.0)}, None),  # 46 jumps: under 6 sds (48)
        ({2: (59.0, 20.0), 3: (0.0, 0.0)}, 2),
        ({2: (49.0, 20.0), 3: (0.0, 0.0)}, None),  # 29 jumps: under 30
        ({2: (0.0, 0.0), 3: (0.0, 0.0)}, None),
    ],
)
def test_the_limits_of_the_joint_jump_warning(jumps, said):
    hmm = AggregatedHMM()
    hmm.n_channels_, hmm.unitary_current_ = 10, 0.5
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hmm._warn_joint_jumps(jumps)
    if said is None:
        assert not caught
    else:
        (warning,) = caught
        assert issubclass(warning.category, AmbiguousFitWarning)
        seen, expected = jumps[said]
        assert f"jump by {said} or more levels at once {seen:.0f} times" in str(warning.message)
        assert f"{seen / expected:.1f} times as often as 10" in str(warning.message)


@pytest.mark.filterwarnings("ignore::skion.exceptions.CorrelatedNoiseWarning")  # 1/f noise
def test_a_lattice_finer_than_the_channels_is_said():
    # 3 fast channels of 1.2 pA under 1/f noise (0.3 step): fitted as 10 channels of
    # 0.48 pA, the noise read as their openings, the residual white (no
    # CorrelatedNoiseWarning), macro-F1 0.016, in silence. Every real opening is then a
    # jump of two or three of its levels: twice as many as its channels make. (Should the
    # default fit come to read this recording right, find another that it misreads.)
    X, y = pink_recording(7, 30_000)
    with pytest.warns(AmbiguousFitWarning, match=JOINT):
        hmm = AggregatedHMM().fit(X)
    assert hmm.n_channels_ > 3 and hmm.joint_jump_ratio_ > 1.5
    # given the channel count, the fit is right and its jumps are the channels'
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=f".*{JOINT}")
        given = AggregatedHMM(n_channels=3).fit(X)
    assert 0.8 < given.joint_jump_ratio_ < 1.25
    assert f1_score(y, given.predict(X), average="macro") > 0.98


@pytest.mark.parametrize(
    "kwargs",
    [
        # 8 fast channels at a high open probability: many jumps of two levels, all the
        # channels' own
        {"kinetics": "high", "n_channels": 8, "noise": 0.3, "random_state": 5},
        {"kinetics": "fast", "n_channels": 3, "noise": 0.3, "random_state": 2},
    ],
)
def test_the_channels_own_joint_jumps_are_not_said(kwargs):
    X, _, _, _ = make_patch_clamp(20_000, unitary_current=1.5, **kwargs)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=f".*{JOINT}")
        hmm = AggregatedHMM().fit(X)
    assert hmm.n_channels_ == kwargs["n_channels"]
    assert 0.8 < hmm.joint_jump_ratio_ < 1.25


# capped, the levels above are left in the residual as slow noise (ratio 5)
@pytest.mark.filterwarnings("ignore::skion.exceptions.CorrelatedNoiseWarning")
@pytest.mark.parametrize("cap", ["max_channels", "n_channels"])
def test_levels_above_the_channel_count_are_said(cap):
    # 7 slow channels; the longest recording never has more than 5 open, the other has
    # 6 open in 142 samples: capped at 5 channels those are decoded as 5 open
    X, _, groups, _ = make_patch_clamp(
        51_901, kinetics="slow", n_channels=7, n_recordings=2, unitary_current=-1.0945,
        noise=0.1423, offset=-1.427, hum_amplitude=0.109, random_state=2012,
    )  # fmt: skip
    hmm = AggregatedHMM(line_freq=50.0, current_sign="negative", **{cap: 5})
    with pytest.warns(
        AmbiguousFitWarning, match=rf"visit 1 level\(s\) above the 5 channels {cap} = 5"
    ):
        hmm.fit(X, groups=groups)
