"""Parameter validation stricter than scikit-learn's: no ``True`` for a number."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, InvalidParameterError

__all__ = ["StrictParamsMixin"]


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
            if not isinstance(value, bool | np.bool_) or "boolean" in constraints:
                continue
            if any(isinstance(c, Interval) and c.type in (Integral, Real) for c in constraints):
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} must be a number, "
                    f"not the boolean {value!r}."
                )
