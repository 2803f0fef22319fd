"""Metadata requests of recording-aware estimators: ``groups`` requested by default, and
kept as plain data when an estimator is pickled or saved.

Every skion estimator treats the rows of each recording (``groups``) apart, so every
method that takes ``groups`` requests it at class level (``__metadata_request__*``, as
skada does for ``sample_domain``): with metadata routing on, ``Pipeline``,
``cross_validate(..., params={"groups": groups})`` and ``GridSearchCV`` hand it to every
step without a ``set_fit_request(groups=True)`` per instance. ``set_*_request`` still
overrides it per instance (``groups=False``, or another name).

scikit-learn stores the requests of ``set_fit_request(groups=True)`` and the like in a
``MetadataRequest`` that points back to its estimator. That cycle is harmless to pickle,
but a model file holds data only (skops), which cannot express it. skion's estimators
therefore give their state the requests as ``{method: {parameter: request}}`` and set
them again, through the public ``set_{method}_request``, when the state is restored.
"""

from __future__ import annotations

from sklearn import config_context
from sklearn.utils._metadata_requests import SIMPLE_METHODS, MetadataRequest

__all__ = ["RecordingRequestsMixin"]

_KEY = "_metadata_request"


class RecordingRequestsMixin:
    """Request ``groups`` in fit, transform, predict and predict_proba (those a class has),
    and pickle (and save) metadata requests as plain data; list it before
    ``BaseEstimator``."""

    def __init_subclass__(cls, **kwargs):
        # only for the methods the class has: scikit-learn before 1.9 would otherwise
        # give a classifier a transform request (and set_transform_request) too
        for method in ("fit", "transform", "predict", "predict_proba"):
            if hasattr(cls, method):
                setattr(cls, f"__metadata_request__{method}", {"groups": True})
        super().__init_subclass__(**kwargs)

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
