"""The recipe's 1-D U-Net with squeeze-and-excitation residual blocks (Keras 3).

Reads top to bottom in the order of the recipe: ``cbr`` -> ``se_block`` ->
``resblock`` -> encoder levels with average-pooled input injections -> upsampling
decoder with skip connections -> per-sample softmax head. Only built-in Keras layers
are used, so a saved ``.keras`` file loads anywhere Keras does, without skion.
"""

from __future__ import annotations

from numbers import Integral, Real

import keras
from keras import layers
from sklearn.utils._param_validation import Interval, StrOptions

from .._strict import validate_params

__all__ = ["build_unet", "encoder_layers", "min_window_multiple"]

#: Name of the no-op layer after the encoder's deepest level; see :func:`encoder_layers`.
BOTTLENECK = "bottleneck"


def cbr(
    x,
    filters,
    kernel_size,
    strides=1,
    dilation=1,
    *,
    momentum=0.99,
    normalization="batch",
    name=None,
):
    """Conv1D ("same" padding) -> BatchNormalization (unless ``normalization="none"``) -> ReLU."""
    x = layers.Conv1D(
        filters,
        kernel_size,
        strides=strides,
        dilation_rate=dilation,
        padding="same",
        kernel_initializer="he_uniform",
        name=None if name is None else f"{name}_conv",
    )(x)
    if normalization == "batch":
        x = layers.BatchNormalization(
            momentum=momentum, name=None if name is None else f"{name}_bn"
        )(x)
    return layers.Activation("relu", name=None if name is None else f"{name}_relu")(x)


def se_block(x, filters):
    """Squeeze-and-excitation: rescale each channel by a gate computed from its mean."""
    gate = layers.GlobalAveragePooling1D(keepdims=True)(x)
    gate = layers.Dense(max(filters // 8, 1), activation="relu")(gate)
    gate = layers.Dense(filters, activation="sigmoid")(gate)
    return layers.Multiply()([x, gate])


def resblock(
    x, filters, kernel_size, dilation=1, *, momentum=0.99, normalization="batch", dropout=0.0
):
    """Two ``cbr`` -> squeeze-and-excitation -> residual add."""
    shortcut = x
    x = cbr(x, filters, kernel_size, 1, dilation, momentum=momentum, normalization=normalization)
    if dropout:
        x = layers.SpatialDropout1D(dropout)(x)
    x = cbr(x, filters, kernel_size, 1, dilation, momentum=momentum, normalization=normalization)
    x = se_block(x, filters)
    return layers.Add()([shortcut, x])


@validate_params(
    {
        "pool_size": [Interval(Integral, 2, 64, closed="both")],
        "n_levels": [Interval(Integral, 1, 8, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def min_window_multiple(pool_size: int = 5, n_levels: int = 3) -> int:
    """Window lengths fed to :func:`build_unet` must be a multiple of this number.

    Parameters
    ----------
    pool_size : int, default=5
        Downsampling factor of every encoder level.
    n_levels : int, default=3
        Number of downsampling levels.

    Returns
    -------
    multiple : int
        ``pool_size ** n_levels``: 125 for the recipe's network.

    Examples
    --------
    >>> from skion.neural import min_window_multiple
    >>> min_window_multiple()
    125
    """
    return pool_size**n_levels


@validate_params(
    {
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "filters": [Interval(Integral, 1, 1024, closed="both")],
        "kernel_size": [Interval(Integral, 1, 1001, closed="both")],
        "depth": [Interval(Integral, 0, 32, closed="both")],
        "n_levels": [Interval(Integral, 1, 8, closed="both")],
        "pool_size": [Interval(Integral, 2, 64, closed="both")],
        "batchnorm_momentum": [Interval(Real, 0, 1, closed="both")],
        "normalization": [StrOptions({"batch", "none"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "name": [str],
    },
    prefer_skip_nested_validation=True,
)
def build_unet(
    n_features: int,
    n_classes: int,
    *,
    filters: int = 64,
    kernel_size: int = 7,
    depth: int = 2,
    n_levels: int = 3,
    pool_size: int = 5,
    batchnorm_momentum: float = 0.99,
    normalization: str = "batch",
    dropout: float = 0.0,
    name: str = "skion_unet",
) -> keras.Model:
    """Build the recipe's 1-D U-Net for per-sample classification.

    Parameters
    ----------
    n_features : int
        Input channels per time sample (1 for a current trace).
    n_classes : int
        Output classes per time sample (11 for 0..10 open channels).
    filters : int, default=64
        Filters at full resolution; encoder level ``i`` uses ``filters * (i + 1)``.
    kernel_size : int, default=7
        Convolution kernel length at every level.
    depth : int, default=2
        Residual squeeze-and-excitation blocks per encoder level.
    n_levels : int, default=3
        Number of stride-``pool_size`` downsampling steps (the recipe has 3).
    pool_size : int, default=5
        Downsampling factor per level. Input length must be a multiple of
        ``pool_size ** n_levels`` (125 by default); see :func:`min_window_multiple`.
    batchnorm_momentum : float, default=0.99
        Momentum of the BatchNormalization moving averages (Keras' default, as in
        the recipe). Lower values (0.9) track the weights faster when an epoch has
        few optimizer steps.
    normalization : {"batch", "none"}, default="batch"
        ``"batch"``: BatchNormalization after every convolution (the recipe).
        ``"none"``: no normalization layer. Batch statistics mix windows of different
        recordings, whose absolute current levels are what the network must read; on
        small CPU budgets training without them is steadier (see ``docs/decisions.md``).
    dropout : float, default=0.0
        Spatial dropout rate between the two convolutions of each residual block.
    name : str, default="skion_unet"
        Model name.

    Returns
    -------
    keras.Model
        Functional model mapping ``(batch, length, n_features)`` to per-sample
        class probabilities ``(batch, length, n_classes)``. Not compiled.

    See Also
    --------
    SequenceUNetClassifier : scikit-learn estimator that trains this network.

    Examples
    --------
    >>> from skion import build_unet
    >>> model = build_unet(1, 11)
    >>> round(model.count_params() / 1e6, 2)
    5.08
    >>> build_unet(1, 3, filters=8).output_shape
    (None, None, 3)
    """
    # Keras refuses NumPy integers (np.int64(4) filters: "invalid value for units")
    n_features, n_classes, filters, kernel_size, depth, n_levels, pool_size = (
        int(value)
        for value in (n_features, n_classes, filters, kernel_size, depth, n_levels, pool_size)
    )
    norm = {"momentum": batchnorm_momentum, "normalization": normalization}

    inputs = keras.Input(shape=(None, n_features), name="signal")

    # Encoder: level 0 at full resolution, then stride-`pool_size` levels; from level 2
    # on, the raw input average-pooled to the level's resolution is concatenated in.
    skips = []
    x = inputs
    for level in range(n_levels + 1):
        level_filters = filters * (level + 1)
        if level >= 2:
            pooled = layers.AveragePooling1D(pool_size ** (level - 1))(inputs)
            x = layers.Concatenate()([x, pooled])
        x = cbr(x, level_filters, kernel_size, 1 if level == 0 else pool_size, **norm)
        for _ in range(depth):
            x = resblock(x, level_filters, kernel_size, dropout=dropout, **norm)
        if level < n_levels:
            skips.append(x)
    x = layers.Identity(name=BOTTLENECK)(x)  # marks the end of the encoder (no weights)

    # Decoder: upsample, concatenate the skip of the same resolution, one cbr.
    for level in reversed(range(n_levels)):
        x = layers.UpSampling1D(pool_size)(x)
        x = layers.Concatenate()([x, skips[level]])
        x = cbr(x, filters * (level + 1), kernel_size, **norm)

    x = layers.Conv1D(n_classes, kernel_size, padding="same", name="head")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def encoder_layers(model: keras.Model) -> list:
    """The layers of a :func:`build_unet` model's contracting path (the encoder).

    These are the layers the bottleneck depends on: every encoder level, the pooled
    input injections, and nothing of the decoder or the head. Transfer learning
    freezes them (``SequenceUNetClassifier(freeze_encoder=True)``).

    Parameters
    ----------
    model : keras.Model
        A network built by :func:`build_unet` (it marks the end of its encoder).

    Returns
    -------
    layers : list of keras.layers.Layer
        The encoder's layers that hold weights, in the model's layer order.

    Examples
    --------
    >>> from skion import build_unet
    >>> from skion.neural import encoder_layers
    >>> model = build_unet(1, 3, filters=8, depth=1)
    >>> names = [layer.name for layer in encoder_layers(model)]
    >>> len(names) < len([layer for layer in model.layers if layer.weights])
    True
    >>> "head" in names
    False
    """
    try:
        bottleneck = model.get_layer(BOTTLENECK)
    except ValueError as error:
        raise ValueError(
            f"{model.name!r} has no {BOTTLENECK!r} layer; encoder_layers needs a model "
            "built by skion.build_unet."
        ) from error
    encoder = keras.Model(model.inputs, bottleneck.output)
    return [layer for layer in encoder.layers if layer.weights]
