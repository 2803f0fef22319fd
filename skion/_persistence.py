"""skion model files: one joblib file holding a fitted estimator and its provenance.

A model file is a joblib pickle of a dict::

    {"format": "skion-model", "format_version": 1, "skion_version": ...,
     "sklearn_version": ..., "keras_version": ..., "conditions": {...},
     "estimator": <fitted estimator>}

``conditions`` (plain data, possibly empty) describes the training data: sampling rate,
units, recordings, open-channel counts, as ``skion fit`` records them.

Keras networks inside the estimator are stored in Keras' own ``.keras`` format (see
``SequenceUNetClassifier.__getstate__``), so a file written by one process loads in
another with the same major versions of skion, scikit-learn and Keras. Like every
pickle, load only files you trust.
"""

from __future__ import annotations

import os
from importlib.metadata import version as _installed_version
from pathlib import Path

import joblib
import sklearn

from ._version import __version__

__all__ = ["ModelFileError", "dump_estimator", "load_estimator", "read_model_file"]

MODEL_FORMAT = "skion-model"
MODEL_FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A file that is missing, unreadable or not a skion model file of a known version."""


def dump_estimator(estimator, path: str | os.PathLike, *, conditions=None) -> None:
    """Write ``estimator`` (fitted) to ``path`` as a skion model file.

    ``conditions`` is a dict of plain values describing the training data. Parent folders
    are created; an existing file is replaced.
    """
    payload = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "skion_version": __version__,
        "sklearn_version": sklearn.__version__,
        "keras_version": _installed_version("keras"),
        "conditions": dict(conditions or {}),
        "estimator": estimator,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(payload, path)


def read_model_file(path: str | os.PathLike) -> dict:
    """The whole content of a skion model file: provenance, conditions and estimator.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`dump_estimator`.

    Returns
    -------
    payload : dict
        The keys listed in the module docstring; ``conditions`` is ``{}`` for files
        written before it existed.

    Raises
    ------
    ModelFileError
        The file is missing, not a skion model file, or of a newer format version.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no such model file: {path}")
    try:
        payload = joblib.load(path)
    except Exception as error:
        raise ModelFileError(f"{path} is not a skion model file ({error})") from error
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path} is not a skion model file")
    if payload["format_version"] > MODEL_FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model format {payload['format_version']}, newer than this skion "
            f"{__version__} reads ({MODEL_FORMAT_VERSION}); upgrade skion"
        )
    payload.setdefault("conditions", {})
    return payload


def load_estimator(path: str | os.PathLike, expected_type: type | None = None):
    """Read the estimator stored in a skion model file.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`dump_estimator`.
    expected_type : type, default=None
        When given, the stored estimator must be an instance of it.

    Raises
    ------
    ModelFileError
        The file is missing, not a skion model file, of a newer format version, or
        holds another kind of estimator.
    """
    estimator = read_model_file(path)["estimator"]
    if expected_type is not None and not isinstance(estimator, expected_type):
        raise ModelFileError(
            f"{path} holds a {type(estimator).__name__}, not a {expected_type.__name__}"
        )
    return estimator
