"""A model trained on one rig predicts others: open-channel units make it travel."""

from sklearn import config_context
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline

from skion import HMMClassifier, LatticeDetrender, LatticeScaler
from skion.datasets import make_patch_clamp

#: Rigs as (unitary current, offset, noise / step, drift); three bursting channels each.
RIGS = {
    "A": (1.2, 0.0, 0.25, "ramp"),
    "B (inward, offset)": (-2.4, 5.0, 0.25, "sine"),
    "C (small step, noisier)": (0.6, -2.0, 0.3, "none"),
    "D (large inward step)": (-3.0, -4.0, 0.2, "ramp"),
}


def _recordings(rig, seed):
    step, offset, noise, drift = RIGS[rig]
    X, y, groups, _ = make_patch_clamp(
        60_000,
        kinetics="fast",
        n_channels=3,
        n_recordings=2,
        unitary_current=step,
        offset=offset,
        noise=noise * abs(step),
        drift=drift,
        drift_amplitude=abs(step),
        random_state=seed,
    )
    return X, y, groups


def _pipeline(first):
    first.set_fit_request(groups=True).set_transform_request(groups=True)
    hmm = HMMClassifier().set_fit_request(groups=True).set_predict_request(groups=True)
    return Pipeline([("units", first), ("hmm", hmm)])


def _score(model, data):
    X, y, groups = data
    return f1_score(y, model.predict(X, groups=groups), average="macro")


def test_a_model_trained_on_one_rig_predicts_three_others():
    with config_context(enable_metadata_routing=True):
        X, y, groups = _recordings("A", seed=0)
        travelling = _pipeline(LatticeScaler()).fit(X, y, groups=groups)
        one_lattice = _pipeline(LatticeDetrender()).fit(X, y, groups=groups)
        for i, rig in enumerate(list(RIGS)[1:]):
            # the reference: the same model trained on this rig's labels (its lattice
            # learned from them), scored on other recordings of the rig
            X, y, groups = _recordings(rig, seed=20 + i)
            same_rig = _pipeline(LatticeDetrender()).fit(X, y, groups=groups)
            test = _recordings(rig, seed=10 + i)
            reference = _score(same_rig, test)
            assert _score(travelling, test) > reference - 0.02, rig
            # the lattice learned from rig A's labels does not travel
            assert _score(one_lattice, test) < reference - 0.3, rig
