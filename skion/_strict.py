"""Parameter validation stricter than scikit-learn's: no ``True`` for a number."""

from __future__ import annotations

import functools
import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, InvalidParameterError
from sklearn.utils._param_validation import validate_params as _sklearn_validate_params

__all__ = ["StrictParamsMixin", "validate_params"]


def _takes_a_number(constraints):
    """Whether the constraints allow a number but not ``"boolean"``."""
    return "boolean" not in constraints and any(
        isinstance(c, Interval) and c.type in (Integral, Real) for c in constraints
    )


def _is_boolean(value):
    return isinstance(value, bool | np.bool_)


class StrictParamsMixin:
    """Refuse ``True``/``False`` where a parameter takes a number.

    Python's ``bool`` is an ``int``, so scikit-learn's ``Interval(Integral, ...)``
    constraints accept ``epochs=True`` (one epoch) or ``depth=False`` (zero) without a
    word. A parameter whose constraints allow a number but not ``"boolean"`` refuses a
    boolean here, with the same error as any other invalid value.
    """

    def _validate_params(self):
        super()._validate_params()
        for name, constraints in self._parameter_constraints.items():
            value = getattr(self, name, None)
            if _is_boolean(value) and _takes_a_number(constraints):
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} must be a number, "
                    f"not the boolean {value!r}."
                )


def validate_params(parameter_constraints, *, prefer_skip_nested_validation):
    """scikit-learn's ``validate_params``, refusing booleans for numbers as well.

    The decorated function keeps its constraints in ``_skion_parameter_constraints``, so
    that tests can find every numeric parameter of skion's public functions.
    """
    numeric = [name for name, c in parameter_constraints.items() if _takes_a_number(c)]

    def decorate(func):
        checked = _sklearn_validate_params(
            parameter_constraints, prefer_skip_nested_validation=prefer_skip_nested_validation
        )(func)
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                given = signature.bind_partial(*args, **kwargs).arguments
            except TypeError:  # let the call itself say what is wrong with the arguments
                given = {}
            for name in numeric:
                if _is_boolean(given.get(name)):
                    raise InvalidParameterError(
                        f"The {name!r} parameter of {func.__qualname__} must be a number, "
                        f"not the boolean {given[name]!r}."
                    )
            return checked(*args, **kwargs)

        wrapper._skion_parameter_constraints = parameter_constraints
        return wrapper

    return decorate
