"""Metadata requests kept as plain data when an estimator is pickled or saved.

scikit-learn stores the requests of ``set_fit_request(groups=True)`` and the like in a
``MetadataRequest`` that points back to its estimator. That cycle is harmless to pickle,
but a model file holds data only (skops), which cannot express it. skion's estimators
therefore give their state the requests as ``{method: {parameter: request}}`` and set
them again, through the public ``set_{method}_request``, when the state is restored.
"""

from __future__ import annotations

from sklearn import config_context
from sklearn.utils._metadata_requests import SIMPLE_METHODS, MetadataRequest

__all__ = ["PlainRequestsMixin"]

_KEY = "_metadata_request"


class PlainRequestsMixin:
    """Pickle (and save) metadata requests as plain data; list it before ``BaseEstimator``."""

    def __getstate__(self):
        state = super().__getstate__()
        request = state.get(_KEY)
        if isinstance(request, MetadataRequest):
            plain = {method: dict(getattr(request, method).requests) for method in SIMPLE_METHODS}
            state = {**state, _KEY: {method: r for method, r in plain.items() if r}}
        return state

    def __setstate__(self, state):
        requests = state.get(_KEY)
        if isinstance(requests, dict):
            state = {key: value for key, value in state.items() if key != _KEY}
        super().__setstate__(state)
        if isinstance(requests, dict):
            with config_context(enable_metadata_routing=True):
                for method, request in requests.items():
                    if method not in SIMPLE_METHODS or not all(
                        isinstance(value, bool | str | None) for value in request.values()
                    ):
                        raise ValueError(f"invalid metadata request {method!r}: {request!r}")
                    getattr(self, f"set_{method}_request")(**request)
