"""Bad input gets a clear error naming the problem, never a silent wrong result."""

import numpy as np
import pytest
import skops.io

from skion import SequenceUNetClassifier
from skion.datasets import make_telegraph
from skion.model_files import ModelFileError, read_model_file

TINY = {"window_size": 125, "filters": 2, "depth": 1, "epochs": 1}


def _fitted():
    from skion import HMMClassifier

    X, y = make_telegraph(500, random_state=0)
    return HMMClassifier().fit(X, y)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"filters": 20_000}, "filters"),
        ({"kernel_size": 100_000}, "kernel_size"),
        ({"depth": 10_000}, "depth"),
        ({"epochs": 10**9}, "epochs"),
        ({"class_weight": {0: np.nan, 1: 1.0}}, "finite weights"),
        ({"class_weight": {0: -1.0, 1: 1.0}}, "finite weights"),
        ({"class_weight": {0: np.inf, 1: 1.0}}, "finite weights"),
        ({"class_weight": {0: "a", 1: 1.0}}, "finite weights"),  # a TypeError in isfinite
        ({"class_weight": {0: 0, 1: 0}}, "every class weight 0"),  # failed after training
    ],
)
def test_unet_parameters_that_cannot_work_are_refused(params, message):
    X, y = make_telegraph(1000, random_state=0)
    with pytest.raises(ValueError, match=message):
        SequenceUNetClassifier(**{**TINY, **params}).fit(X, y)


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"learning_rate": 1e30, "epochs": 2}, FloatingPointError, "training diverged"),
        # one epoch: its loss is computed before the updates that broke the weights
        ({"learning_rate": 1e30}, FloatingPointError, "output is not finite"),
        ({"lr_schedule": lambda e, r, n: float("nan")}, ValueError, "returned nan for epoch 0"),
        ({"lr_schedule": lambda e, r, n: -1.0}, ValueError, "finite positive learning rate"),
        ({"lr_schedule": lambda e, r, n: "x"}, ValueError, "returned 'x'"),
    ],
    ids=["diverged", "diverged in the last epoch", "nan rate", "negative rate", "text"],
)
def test_a_diverged_fit_raises_instead_of_returning_nan_weights(params, error, message):
    from sklearn.exceptions import NotFittedError

    X, y = make_telegraph(2000, random_state=1)
    clf = SequenceUNetClassifier(**{**TINY, **params})
    with pytest.raises(error, match=message):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):  # the broken network is not kept
        clf.predict(X)


def test_the_unet_refuses_values_whose_squares_overflow_float32():
    X, y = make_telegraph(2000, random_state=1)
    with pytest.raises(ValueError, match=r"e\+30 in magnitude.*overflow float32"):
        SequenceUNetClassifier(**TINY).fit(X * 1e30, y)
    clf = SequenceUNetClassifier(**TINY, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="overflow float32"):
        clf.predict_proba(X * 1e38)
    assert np.isfinite(clf.predict_proba(X * 1e6)).all()  # large, but computable


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"noise": np.nan}, "'noise' parameter"),
        ({"noise": np.inf}, "'noise' parameter"),
        ({"step": np.nan}, "'step' parameter"),
        ({"offset": -np.inf}, "'offset' parameter"),
        ({"step": 1e300}, "'step' parameter"),  # float32 output: inf without a word
        ({"offset": -1e300}, "'offset' parameter"),
        ({"noise": 1e300}, "'noise' parameter"),
        ({"n_channels": 10**6}, "'n_channels' parameter .* range \\[1, 1000\\]"),
        ({"p_open": 0.0}, "'p_open' parameter"),
        ({"p_close": 1.5}, "'p_close' parameter"),
    ],
)
def test_make_telegraph_refuses_non_finite_or_huge_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_telegraph(100, **kwargs)


@pytest.mark.parametrize(
    "payload",
    [
        {"format": "skion-model", "estimator": 1, "conditions": "{}"},
        {"format": "skion-model", "format_version": "2", "estimator": 1, "conditions": "{}"},
        {"format": "skion-model", "format_version": 2, "conditions": "{}"},
        {"format": "skion-model", "format_version": 2, "estimator": 1, "conditions": {}},
        # an AttributeError traceback from predict, and "steps: int" from info
        {"format": "skion-model", "format_version": 2, "estimator": 1, "conditions": "{}"},
        # "error: Expecting value: line 1 column 1" without the file's name
        {"format": "skion-model", "format_version": 2, "estimator": _fitted(), "conditions": "no"},
    ],
    ids=[
        "no version",
        "string version",
        "no estimator",
        "conditions a dict",
        "estimator an int",
        "conditions not JSON",
    ],
)
def test_incomplete_model_files_are_named_as_such(tmp_path, payload, capsys):
    from skion.cli import main

    path = tmp_path / "m.skion"
    skops.io.dump(payload, path)
    with pytest.raises(ModelFileError, match=r"m\.skion is not a skion model file"):
        read_model_file(path)
    assert main(["info", str(path)]) == 1
    assert "is not a skion model file" in capsys.readouterr().err


def test_converting_an_old_file_without_an_estimator_is_a_model_file_error(tmp_path):
    import joblib

    from skion.model_files import convert_model_file

    joblib.dump({"format": "skion-model"}, tmp_path / "old.skion")  # was a KeyError
    with pytest.raises(ModelFileError, match="is not a skion model file"):
        convert_model_file(tmp_path / "old.skion", tmp_path / "new.skion", trust=True)


def test_numpy_integers_build_a_network():
    from skion import build_unet

    network = build_unet(np.int64(1), np.int64(2), filters=np.int64(4), depth=np.int32(1))
    assert network.output_shape == (None, None, 2)  # Keras refused np.int64 filters


@pytest.mark.parametrize("name", ["AggregatedHMM", "LatticeScaler"])
def test_a_constant_recording_has_no_levels_to_find(name):
    import skion

    estimator = getattr(skion, name)()
    with pytest.raises(ValueError, match=r"recording 0 is constant \(3 on all 3000 rows\)"):
        estimator.fit(np.full((3000, 1), 3.0))  # LatticeScaler: a ZeroDivisionError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_classes": 1}, "n_classes"),
        ({"batchnorm_momentum": 5}, "batchnorm_momentum"),
        ({"filters": 20_000}, "filters"),
        ({"n_classes": 3.5}, "n_classes"),
    ],
)
def test_build_unet_refuses_networks_that_cannot_work(kwargs, message):
    from skion import build_unet

    with pytest.raises(ValueError, match=message):
        build_unet(**{"n_features": 1, "n_classes": 2, **kwargs})


@pytest.mark.parametrize(("kwargs", "message"), [({"pool_size": 0}, "pool_size"),
                                                 ({"n_levels": -1}, "n_levels"),
                                                 ({"pool_size": 2.5}, "pool_size")])  # fmt: skip
def test_min_window_multiple_is_a_positive_whole_number(kwargs, message):
    from skion.neural import min_window_multiple

    with pytest.raises(ValueError, match=message):
        min_window_multiple(**kwargs)


@pytest.mark.parametrize("closed_level", [np.nan, np.inf, -np.inf])
def test_lattice_detrender_refuses_a_non_finite_closed_level(closed_level):
    from skion import LatticeDetrender

    X, y = make_telegraph(2000, random_state=4)
    with pytest.raises(ValueError, match="closed_level"):
        LatticeDetrender(closed_level=closed_level).fit(X, y)


def test_hmm_recursions_refuse_impossible_observations():
    from skion.hmm import forward_backward, viterbi

    log_emission = np.array([[0.0, -1.0], [-np.inf, -np.inf], [0.0, 0.0]])
    for decode in (viterbi, forward_backward):
        with pytest.raises(ValueError, match="-inf for every state at row 1"):
            decode(log_emission, np.full((2, 2), 0.5), [0.5, 0.5])
    # Each sample possible alone, but the sequence needs a transition of probability 0.
    with np.errstate(divide="ignore"):
        stuck = np.log(np.array([[1.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="no state sequence"):
        viterbi(stuck, np.eye(2), [0.5, 0.5])
    # Log-likelihoods whose sum overflows: named as such, not as an impossible sequence
    # (forward-backward normalises every row and is unaffected).
    huge = np.full((5, 2), 1e308)
    with pytest.raises(ValueError, match=r"too large to sum over 5 samples.*1e\+308"):
        viterbi(huge, np.full((2, 2), 0.5), [0.5, 0.5])
    np.testing.assert_allclose(forward_backward(huge, np.full((2, 2), 0.5), [0.5, 0.5])[0], 0.5)


def test_a_csv_that_is_not_text_is_named(tmp_path, capsys):
    from skion.cli import main
    from skion.datasets import read_recording

    path = tmp_path / "binary.csv"
    path.write_bytes(b"time,signal\n0.0001,1.0\n0.0002,\xff\xfe1\n")
    with pytest.raises(ValueError, match=r"binary\.csv: not a text CSV file"):
        read_recording(path)
    assert main(["idealize", str(path), "--out", str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not UTF-8" in err


def test_init_model_says_what_is_wrong_with_it(tmp_path):
    from skion import HMMClassifier

    X, y = make_telegraph(1000, random_state=5)
    corrupt = tmp_path / "net.keras"
    corrupt.write_bytes(b"PK\x03\x04 not really a keras archive")
    cases = [
        (corrupt, "not a readable .keras file"),
        (HMMClassifier().fit(X, y), "fitted HMMClassifier, which holds no Keras network"),
        (SequenceUNetClassifier(), "unfitted SequenceUNetClassifier"),
    ]
    for init_model, message in cases:
        with pytest.raises(ValueError, match=message):
            SequenceUNetClassifier(init_model=init_model, **TINY).fit(X, y)


SIGNAL_ESTIMATORS = [
    ("HMMClassifier", True),
    ("AggregatedHMM", False),
    ("LatticeDetrender", True),
    ("LatticeScaler", False),
    ("ZScoreWindower", False),
]


@pytest.mark.parametrize(("name", "supervised"), SIGNAL_ESTIMATORS)
@pytest.mark.parametrize(
    ("scale", "message"),
    [(1e300, "values up to .* squares overflow"), (1e-300, "varies by only .* underflow")],
)
def test_signals_whose_squares_leave_float64_are_refused(name, supervised, scale, message):
    # at 1e300 HMMClassifier returned non-finite probabilities and AggregatedHMM reported
    # "probability zero at row 0"; at 1e-300, "zero-size array to reduction operation"
    import skion

    X, y = make_telegraph(2000, random_state=0)
    X = X.astype(np.float64)
    estimator = getattr(skion, name)()
    with pytest.raises(ValueError, match=message):
        estimator.fit(X * scale, y) if supervised else estimator.fit(X * scale)
    fitted = estimator.fit(X, y) if supervised else estimator.fit(X)
    apply = fitted.predict if hasattr(fitted, "predict") else fitted.transform
    with pytest.raises(ValueError, match=message):
        apply(X * scale)


def test_a_row_index_passed_as_groups_is_refused():
    # groups=np.arange(n) made every row its own recording: the U-Net trained on thousands
    # of one-row windows (190 s at 1M rows) and the HMM decoded every row alone
    from skion import HMMClassifier

    X, y = make_telegraph(5000, random_state=0)
    message = "groups marks 5000 recordings in 5000 rows .* looks like a row index"
    for estimator in (HMMClassifier(), SequenceUNetClassifier(**TINY)):
        with pytest.raises(ValueError, match=message):
            estimator.fit(X, y, groups=np.arange(len(X)))
    HMMClassifier().fit(X, y, groups=np.arange(len(X)) // 500)  # ten recordings: fine


def test_lattice_detrender_refuses_a_constant_current():
    # a constant signal learnt step_ = 5.7e-16 without a word
    from skion import LatticeDetrender

    X, y = make_telegraph(3000, random_state=0)
    with pytest.raises(ValueError, match="current does not change with the open-channel count"):
        LatticeDetrender().fit(np.full_like(X, 3.0), y)


@pytest.mark.parametrize("implementation", ["auto", "numpy"])
def test_a_recording_the_model_rules_out_is_named_not_decoded_to_nan(implementation):
    """pseudo_count=0 and labels that never go from 1 back to 0: a recording that does
    underflows every path (a ZeroDivisionError in the compiled pass, NaN in numpy's)."""
    from skion import HMMClassifier

    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(500, int), np.ones(500, int)]
    X = (y + 0.1 * rng.normal(size=1000))[:, None]
    y_new = np.tile(np.r_[np.zeros(50, int), np.ones(50, int)], 10)
    X_new = (y_new + 0.1 * rng.normal(size=1000))[:, None]
    model = HMMClassifier(pseudo_count=0, implementation=implementation).fit(X, y)
    for method in (model.predict, model.predict_proba):
        with pytest.raises(ValueError, match=r"recording 0 \(rows 0-1000\) has probability zero"):
            method(X_new)
    assert np.isfinite(
        HMMClassifier(implementation=implementation).fit(X, y).predict_proba(X_new)
    ).all()


@pytest.mark.parametrize(
    ("make", "kwargs"),
    [
        ("make_ion_switching", {"step": 1e300}),
        ("make_ion_switching", {"line_hum": 1e300}),
        ("make_patch_clamp", {"unitary_current": 1e300}),
        ("make_patch_clamp", {"drift_amplitude": 1e300}),
    ],
)
def test_generators_refuse_values_their_float32_output_cannot_hold(make, kwargs):
    from skion import datasets

    with pytest.raises(ValueError, match=f"'{next(iter(kwargs))}' parameter"):
        getattr(datasets, make)(3000, **kwargs)


def test_lattice_detrender_refuses_a_closed_level_beyond_float64_squares():
    from skion import LatticeDetrender

    X, y = make_telegraph(3000, random_state=0)
    with pytest.raises(ValueError, match="'closed_level' parameter"):
        LatticeDetrender(step=1.0, closed_level=1e300).fit(X, y)


def test_aggregated_hmm_refuses_more_states_than_it_can_decode():
    # 60 channels ran for minutes, 200 asked for 12 GB; refused before any work
    from skion import AggregatedHMM

    X, y = make_telegraph(3000, random_state=0)
    with pytest.raises(ValueError, match=r"1,891 aggregated states.*stops at 500"):
        AggregatedHMM(n_channels=60).fit(X)
    with pytest.raises(ValueError, match=r"60 channels of 2 closed"):
        AggregatedHMM().fit(X, y * 60)  # labels with 60 open channels


def test_context_columns_are_bounded():
    from skion import ContextFeatures, ZScoreWindower

    X, _ = make_telegraph(3000, random_state=0)
    for transformer in (ContextFeatures(context=10**6), ZScoreWindower(context=10**6)):
        with pytest.raises(ValueError, match="'context' parameter"):
            transformer.fit(X)
