"""skion model files: a fitted estimator and its provenance, stored as data only.

A model file (format 2) is a skops archive (a zip of a JSON schema and NumPy arrays) of
a dict::

    {"format": "skion-model", "format_version": 2, "skion_version": ...,
     "sklearn_version": ..., "keras_version": ..., "conditions": {...},
     "estimator": <fitted estimator>}

``conditions`` (plain data, possibly empty) describes the training data: sampling rate,
units, recordings, open-channel counts, as ``skion fit`` records them.

Loading never unpickles file content: skops rebuilds objects only of the types listed
in :func:`trusted_types` (skion's estimators, scikit-learn's and NumPy's), and refuses a
file that names any other before building anything. Keras networks inside the estimator
are stored as ``.keras`` bytes (see ``SequenceUNetClassifier.__getstate__``) and loaded
by Keras in safe mode, which refuses Python code (lambdas) inside a network.

Files of format 1 (skion 0.1) were joblib pickles, and unpickling runs whatever code the
file names: they are refused with a message. :func:`convert_model_file` rewrites one that
the user trusts (``skion convert-model OLD NEW --trust``).
"""

from __future__ import annotations

import json
import os
import zipfile
from importlib.metadata import version as _installed_version
from pathlib import Path

import sklearn
from sklearn.base import BaseEstimator

from ._strict import validate_params
from ._version import __version__

__all__ = [
    "ModelFileError",
    "convert_model_file",
    "dump_estimator",
    "load_estimator",
    "read_model_file",
    "trusted_types",
]

MODEL_FORMAT = "skion-model"
MODEL_FORMAT_VERSION = 2
_ZIP_MAGIC = b"PK\x03\x04"


class ModelFileError(ValueError):
    """A file that is missing, unreadable, unsafe or not a skion model file.

    Examples
    --------
    >>> from skion.model_files import ModelFileError, read_model_file
    >>> try:
    ...     read_model_file("no_such_model.skion")
    ... except ModelFileError as error:
    ...     print(error)
    no such model file: no_such_model.skion
    """


#: The classes a skion model file may hold beyond skops' defaults (scikit-learn's
#: estimators, NumPy arrays and dtypes, Python containers): skion's estimators and the
#: fitted parts they hold. Anything else in a file makes read_model_file refuse it.
TRUSTED_TYPES = (
    "skion.hmm._aggregated.AggregatedHMM",
    "skion.hmm._aggregated._Params",  # files written before the class was moved (2026-12)
    "skion.hmm._posterior._Params",
    "skion.hmm._aggregated_chain.AggregatedChain",
    "skion.hmm._classifier.HMMClassifier",
    "skion.neural._estimator.SequenceUNetClassifier",
    "skion.preprocessing._cleaning.RecordingCleaner",
    "skion.preprocessing._context.ContextFeatures",
    "skion.preprocessing._lattice.LatticeDetrender",
    "skion.preprocessing._lattice_scaler.LatticeScaler",
    "skion.preprocessing._scaler.RecordingScaler",
    "skion.preprocessing._zscore.ZScoreWindower",
)


def trusted_types() -> list[str]:
    """The types a skion model file may hold beyond skops' defaults, fully qualified.

    Returns
    -------
    names : list of str
        ``module.qualname`` of skion's estimators and the fitted parts they hold.

    Examples
    --------
    >>> from skion.model_files import trusted_types
    >>> "skion.hmm._classifier.HMMClassifier" in trusted_types()
    True
    """
    return list(TRUSTED_TYPES)


_PATH = [str, os.PathLike]


@validate_params(
    {"estimator": [object], "path": _PATH, "conditions": [dict, None]},
    prefer_skip_nested_validation=True,
)
def dump_estimator(estimator, path: str | os.PathLike, *, conditions=None) -> None:
    """Write a fitted estimator to a skion model file.

    Parameters
    ----------
    estimator : estimator
        A fitted skion estimator, or a scikit-learn ``Pipeline`` of skion and
        scikit-learn steps. Parameters that hold Python objects (callbacks, an
        ``lr_schedule`` function) must be None: loading them could run code.
    path : str or path-like
        Where to write; parent folders are created and an existing file is replaced.
    conditions : dict, default=None
        Plain values (numbers, strings, lists, dicts) describing the training data, such
        as the sampling rate and units; stored as JSON.

    Raises
    ------
    ModelFileError
        The estimator holds objects a model file does not store.

    See Also
    --------
    load_estimator : Read the estimator back.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skion import HMMClassifier
    >>> from skion.model_files import dump_estimator, read_model_file
    >>> model = HMMClassifier().fit([[0.0], [0.1], [1.0], [1.1], [0.0], [0.9]], [0, 0, 1, 1, 0, 1])
    >>> path = Path(tempfile.mkdtemp()) / "hmm.skion"
    >>> dump_estimator(model, path, conditions={"sampling_rate": 10_000.0})
    >>> read_model_file(path)["conditions"]
    {'sampling_rate': 10000.0}
    """
    import skops.io

    payload = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "skion_version": __version__,
        "sklearn_version": sklearn.__version__,
        "keras_version": _installed_version("keras"),
        # plain data as one JSON string: compact, and checked to be plain at once
        "conditions": json.dumps(dict(conditions or {})),
        "estimator": estimator,
    }
    try:
        data = skops.io.dumps(payload, compression=zipfile.ZIP_DEFLATED)
    except RecursionError:
        raise ModelFileError(
            "the estimator holds a reference cycle (metadata requests set on an estimator "
            "that is not skion's?) and cannot be written as a model file"
        ) from None
    untrusted = [
        name for name in skops.io.get_untrusted_types(data=data) if name not in TRUSTED_TYPES
    ]
    if untrusted:  # refused now, rather than written as a file that cannot be loaded
        raise ModelFileError(
            f"the {type(estimator).__name__} holds objects a model file does not store, "
            f"since loading them could run code: {untrusted}. Set parameters that hold "
            "Python objects (callbacks, an lr_schedule function) to None before saving."
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@validate_params({"path": _PATH}, prefer_skip_nested_validation=True)
def read_model_file(path: str | os.PathLike) -> dict:
    """The whole content of a skion model file: provenance, conditions and estimator.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`dump_estimator`.

    Returns
    -------
    payload : dict
        The keys listed in the module docstring.

    Raises
    ------
    ModelFileError
        The file is missing, not a skion model file, a pickle of skion 0.1 (refused:
        unpickling runs code), names a type skion does not trust, or is of a newer
        format version.

    Examples
    --------
    >>> from skion.model_files import read_model_file
    >>> from skion.neural import PRETRAINED_UNET_PATH
    >>> payload = read_model_file(PRETRAINED_UNET_PATH)
    >>> payload["format"], payload["conditions"]["sampling_rate"]
    ('skion-model', 10000.0)
    """
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no such model file: {path}")
    with open(path, "rb") as stream:
        head = stream.read(4)
    if head != _ZIP_MAGIC:
        raise ModelFileError(_not_an_archive(path, head))
    try:
        payload = skops.io.load(path, trusted=trusted_types())
    except UntrustedTypesFoundException as error:
        raise ModelFileError(
            f"{path} holds types skion does not trust, so nothing in it was loaded: "
            f"{error}. skion writes only its own estimators; a file that names other "
            "types was not written by skion, or was altered."
        ) from None
    except Exception as error:
        raise ModelFileError(f"{path} is not a skion model file ({error})") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path} is not a skion model file")
    version = payload.get("format_version")
    if not isinstance(version, int) or "estimator" not in payload:
        raise ModelFileError(
            f"{path} is not a skion model file: it lacks an integer format_version or an estimator"
        )
    if not isinstance(payload.get("conditions"), str):
        raise ModelFileError(f"{path} is not a skion model file: its conditions are not JSON")
    if not isinstance(payload["estimator"], BaseEstimator):
        raise ModelFileError(
            f"{path} is not a skion model file: it holds a {type(payload['estimator']).__name__} "
            "where the fitted estimator should be"
        )
    if version > MODEL_FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model format {payload['format_version']}, newer than this skion "
            f"{__version__} reads ({MODEL_FORMAT_VERSION}); upgrade skion"
        )
    try:
        payload["conditions"] = json.loads(payload["conditions"])
    except json.JSONDecodeError as error:
        raise ModelFileError(
            f"{path} is not a skion model file: its conditions are not JSON ({error})"
        ) from None
    return payload


def _not_an_archive(path, head: bytes) -> str:
    """Why a file that is not a zip archive is refused."""
    # pickle protocols 2-5 start with PROTO (0x80); joblib compresses with zlib (0x78).
    if head[:1] in (b"\x80", b"\x78") or head.startswith(b"ZF"):
        return (
            f"{path} is a model file of skion 0.1, a pickle; loading a pickle runs whatever "
            "code it names, so skion no longer opens them. If you trust this file (you or "
            "a colleague wrote it), convert it once: skion convert-model "
            f"{path} NEW.skion --trust"
        )
    return f"{path} is not a skion model file"


@validate_params({"path": _PATH, "expected_type": [type, None]}, prefer_skip_nested_validation=True)
def load_estimator(path: str | os.PathLike, expected_type: type | None = None):
    """Read the estimator stored in a skion model file.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`dump_estimator`.
    expected_type : type, default=None
        When given, the stored estimator must be an instance of it.

    Returns
    -------
    estimator : estimator
        The fitted estimator (a ``Pipeline`` for the files ``skion fit`` writes).

    Raises
    ------
    ModelFileError
        As :func:`read_model_file`, or the file holds another kind of estimator.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from skion.model_files import load_estimator
    >>> from skion.neural import PRETRAINED_UNET_PATH
    >>> [name for name, _ in load_estimator(PRETRAINED_UNET_PATH, Pipeline).steps]
    ['clean', 'unet']
    """
    estimator = read_model_file(path)["estimator"]
    if expected_type is not None and not isinstance(estimator, expected_type):
        raise ModelFileError(
            f"{path} holds a {type(estimator).__name__}, not a {expected_type.__name__}"
        )
    return estimator


@validate_params(
    {"source": _PATH, "destination": _PATH, "trust": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def convert_model_file(
    source: str | os.PathLike, destination: str | os.PathLike, *, trust: bool = False
) -> dict:
    """Rewrite a model file of skion 0.1 (a pickle) in the current, data-only format.

    Unpickling the old file runs any code it names: only convert files you trust, and
    say so with ``trust=True``.

    Parameters
    ----------
    source : str or path-like
        A model file written by skion 0.1.
    destination : str or path-like
        Where to write the converted file.
    trust : bool, default=False
        Must be True: the caller vouches for the file's origin.

    Returns
    -------
    payload : dict
        The converted file's content, as :func:`read_model_file` returns it.

    Raises
    ------
    ModelFileError
        Without ``trust=True``, or when the source is not a skion 0.1 model file.

    Examples
    --------
    >>> from skion.model_files import convert_model_file
    >>> convert_model_file("old.skion", "new.skion")
    Traceback (most recent call last):
    ...
    skion.model_files.ModelFileError: converting old.skion unpickles it, ...
    """
    if not trust:
        raise ModelFileError(
            f"converting {source} unpickles it, which runs any code it names; pass "
            "trust=True (--trust) only for a file you trust"
        )
    import joblib

    source = Path(source)
    if not source.is_file():
        raise ModelFileError(f"no such model file: {source}")
    try:
        old = joblib.load(source)
    except Exception as error:
        raise ModelFileError(f"{source} is not a skion 0.1 model file ({error})") from None
    if not isinstance(old, dict) or old.get("format") != MODEL_FORMAT or "estimator" not in old:
        raise ModelFileError(f"{source} is not a skion model file")
    dump_estimator(old["estimator"], destination, conditions=old.get("conditions"))
    return read_model_file(destination)
