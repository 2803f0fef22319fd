"""Booleans are refused where a parameter takes a number (``bool`` is an ``int``)."""

import importlib
import inspect
import pkgutil
from numbers import Integral, Real

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, InvalidParameterError

import skion
from skion import LatticeScaler, SequenceUNetClassifier, ZScoreWindower

#: Every estimator skion exports.
ESTIMATORS = [
    cls
    for name in skion.__all__
    if isinstance(cls := getattr(skion, name), type) and issubclass(cls, BaseEstimator)
]


def _public_functions():
    """Every public function of every skion module that declares its constraints."""
    found = {}
    for module_info in pkgutil.walk_packages(skion.__path__, "skion."):
        if "._" in module_info.name or module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for name in getattr(module, "__all__", []):
            func = getattr(module, name)
            if inspect.isfunction(func) and hasattr(func, "_skion_parameter_constraints"):
                found[f"{func.__module__}.{func.__qualname__}"] = func
    return list(found.values())


FUNCTIONS = _public_functions()


def _numeric_params(cls):
    constraints_of = getattr(cls, "_parameter_constraints", None)
    if constraints_of is None:
        constraints_of = cls._skion_parameter_constraints
    for name, constraints in constraints_of.items():
        numeric = any(isinstance(c, Interval) and c.type in (Integral, Real) for c in constraints)
        if numeric and "boolean" not in constraints:
            yield name


@pytest.mark.parametrize(
    "cls, name",
    [(cls, name) for cls in ESTIMATORS for name in _numeric_params(cls)],
    ids=lambda value: getattr(value, "__name__", value),
)
@pytest.mark.parametrize("value", [True, np.False_])
def test_a_boolean_for_a_number_is_refused_by_name(cls, name, value):
    estimator = cls().set_params(**{name: value})
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        estimator._validate_params()


def test_fit_refuses_epochs_true_before_training():
    X = np.random.default_rng(0).normal(size=(400, 1))
    y = np.repeat([0, 1], 200)
    model = SequenceUNetClassifier(window_size=100, filters=2, depth=1, epochs=True)
    with pytest.raises(InvalidParameterError, match="'epochs' parameter"):
        model.fit(X, y)
    assert not hasattr(model, "model_")


def test_numbers_and_boolean_parameters_still_pass():
    SequenceUNetClassifier(epochs=3, window_size=128)._validate_params()
    ZScoreWindower(context=0)._validate_params()
    LatticeScaler(undo_filter=False)._validate_params()  # a boolean parameter


def test_every_public_function_with_constraints_is_found():
    names = {func.__name__ for func in FUNCTIONS}
    assert {"make_patch_clamp", "read_recording", "build_unet", "open_probability"} <= names
    assert len(FUNCTIONS) >= 15


@pytest.mark.parametrize(
    "func, name",
    [(func, name) for func in FUNCTIONS for name in _numeric_params(func)],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_public_function_refuses_a_boolean_for_a_number(func, name):
    # make_patch_clamp(n_channels=True) drew one channel without a word
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of {func.__name__}"):
        func(**{name: True})
