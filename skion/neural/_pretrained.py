"""The U-Net shipped with skion: open-channel counts of any rig's recording, no training."""

from __future__ import annotations

from numbers import Real
from pathlib import Path

from sklearn.utils._param_validation import Interval

from .._strict import validate_params

__all__ = ["PRETRAINED_UNET_PATH", "load_pretrained_unet"]

#: The model file inside the package, written by ``benchmarks/pretrain_unet.py``.
PRETRAINED_UNET_PATH = Path(__file__).parent / "pretrained" / "unet_open_channels.skion"


@validate_params(
    {"sampling_rate": [Interval(Real, 0, None, closed="neither"), None]},
    prefer_skip_nested_validation=True,
)
def load_pretrained_unet(*, sampling_rate=None):
    """The pretrained U-Net pipeline shipped inside skion (no download, no training).

    A fitted :class:`~sklearn.pipeline.Pipeline`: :class:`~skion.LatticeScaler` (every
    recording in open-channel units, calibrated on its own without labels), then
    :class:`~skion.ZScoreWindower` and :class:`SequenceUNetClassifier`, trained on 10 kHz
    recordings drawn from :func:`skion.datasets.make_patch_clamp` over wide ranges (1-10
    channels, four kinetic schemes, noise 0.1-0.6 of the unitary current, either sign,
    drift, hum, half of them low-pass filtered, and of the unfiltered half a quarter each
    with 1/f noise and with open-channel noise). ``benchmarks/pretrain_unet.py`` is the
    exact command that made it; ``skion info`` on :data:`PRETRAINED_UNET_PATH` shows the
    ranges. Predict inside ``sklearn.config_context(enable_metadata_routing=True)`` with
    ``groups``. Its network is also a starting point for fine-tuning on labelled data of
    one rig (``SequenceUNetClassifier(init_model=pipeline[-1])``).

    Parameters
    ----------
    sampling_rate : float, default=None
        Rate (Hz) of the recordings it will predict, as ``skion idealize --method unet``
        does for a file at another rate than 10 kHz: every recording is calibrated at
        its own rate and predicted as read (at 20 and 40 kHz, 3 points of macro-F1
        better than resampling to 10 kHz; docs/decisions.md). ``None``: 10 kHz.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        The fitted pipeline; ``pipeline.predict(X, groups=groups)`` gives open-channel
        counts, and :func:`skion.pipelines.calibrated_counts` the same counts capped at
        the channels each recording was calibrated with (as ``skion idealize --method
        unet`` does: the network alone predicts a count that never occurs on a few rows
        in some recordings).

    Raises
    ------
    FileNotFoundError
        If the model file is missing from the installation.

    Examples
    --------
    >>> from sklearn import config_context
    >>> from skion.datasets import make_patch_clamp
    >>> from skion.neural import load_pretrained_unet
    >>> X, y, groups, _ = make_patch_clamp(30_000, n_channels=3, unitary_current=-2.0,
    ...                                    offset=4.0, noise=0.5, random_state=0)
    >>> model = load_pretrained_unet()
    >>> with config_context(enable_metadata_routing=True):
    ...     y_pred = model.predict(X, groups=groups)
    >>> bool((y_pred == y).mean() > 0.95)
    True
    """
    from ..model_files import read_model_file
    from ..pipelines import _at_sampling_rate

    if not PRETRAINED_UNET_PATH.is_file():
        raise FileNotFoundError(
            f"The pretrained U-Net is missing from this installation ({PRETRAINED_UNET_PATH}); "
            "reinstall skion, or recreate it with benchmarks/pretrain_unet.py."
        )
    pipeline = read_model_file(PRETRAINED_UNET_PATH)["estimator"]
    return pipeline if sampling_rate is None else _at_sampling_rate(pipeline, sampling_rate)
