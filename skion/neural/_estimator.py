"""SequenceUNetClassifier: the recipe's U-Net as a scikit-learn classifier.

Data flows one way: validate -> window -> network -> stitch -> labels. Windowing
lives in :mod:`skion.windowing`, the network in :mod:`skion.neural._unet`; this
module only joins them and keeps scikit-learn's contract.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
from numbers import Integral, Real

import keras
import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._labels import encode_labels
from .._progress import progress
from .._requests import RecordingRequestsMixin
from .._signal import LARGEST_FLOAT32, check_signal_range
from .._strict import StrictParamsMixin
from ..model_files import dump_estimator, load_estimator
from ..windowing import Recordings, gather_windows, plan_windows, stitch_windows
from ._batches import window_batches
from ._callbacks import BatchLoss, ValidationScores, make_lr_schedule
from ._precision import mixed_policy, policy_scope
from ._serialization import model_from_bytes, model_to_bytes
from ._tensorflow import forget_custom_gradients
from ._transfer import resolve_init_model, transfer_weights
from ._unet import build_unet, encoder_layers, min_window_multiple

__all__ = ["SequenceUNetClassifier"]

#: Rows per network call at inference, flipped copies included; bounds memory
#: (about 0.6 GB of activations at seed defaults).
_PREDICT_CHUNK_ROWS = 2**18


class SequenceUNetClassifier(
    StrictParamsMixin, RecordingRequestsMixin, ClassifierMixin, BaseEstimator
):
    """Per-sample classifier of ion-channel recordings with the recipe's 1-D U-Net.

    Rows of ``X`` are time samples (10 kHz current, optionally more columns); ``y``
    gives the class of every sample (e.g. the number of open channels). ``fit`` cuts
    each recording into windows of ``window_size`` samples and trains the U-Net of
    :func:`skion.build_unet` on them; ``predict`` cuts overlapping windows, keeps
    the centre of each and stitches the per-sample outputs back into exactly
    ``n_samples`` rows in input order.

    Parameters
    ----------
    window_size : int, default=4000
        Training window length in samples. Rounded up to a multiple of 125 (the
        network downsamples three times by 5); a recording shorter than a window
        is trained on as one shorter window padded by reflection.
    predict_window_size : int, default=None
        Inference window length (the recipe uses 10000); None means ``window_size``.
        Rounded up to a multiple of 125.
    predict_margin : float, default=0.1
        Fraction of each inference window discarded at each inner edge: windows
        overlap by ``2 * margin`` and every sample is read from the window in which
        it lies furthest from the edges. Must be in ``[0, 0.5)``.
    filters : int, default=64
        Filters at full resolution, 1 to 1024; see :func:`skion.build_unet`.
    kernel_size : int, default=7
        Convolution kernel length, 1 to 1001.
    depth : int, default=2
        Residual squeeze-and-excitation blocks per encoder level, 0 to 32.
    batchnorm_momentum : float, default=0.9
        BatchNormalization momentum. The recipe uses Keras' 0.99; with few
        optimizer steps per epoch that makes the moving averages lag the weights
        (measured: validation macro-F1 0.18 vs 0.50 after 8 epochs), so 0.9.
    normalization : {"batch", "none"}, default="batch"
        Normalization after every convolution: BatchNormalization (the recipe) or
        none. Batch statistics mix windows of different recordings, whose absolute
        levels are what the network reads; on a small CPU budget ``"none"`` trains
        faster and steadier (``skion demo`` uses it; see ``docs/decisions.md``).
    dropout : float, default=0.0
        Spatial dropout inside residual blocks.
    epochs : int, default=60
        Training epochs (passes over the training windows), 1 to 100,000. A loss that
        stops being finite (a learning rate too large) raises ``FloatingPointError``.
    batch_size : int, default=32
        Windows per optimizer step (and per inference batch).
    learning_rate : float, default=5e-4
        Adam's base learning rate.
    lr_schedule : {"step", "cosine", "constant"} or callable, default="step"
        ``"step"``: the recipe's schedule, base rate then /10 after 35/60 and /100
        after 50/60 of the epochs. ``"cosine"``: cosine decay to 1 % of the base
        rate. A callable ``f(epoch, learning_rate, epochs) -> float`` is used as is.
    flip_augment : float, default=0.5
        Probability that a training window is reversed in time each epoch.
    tta_flip : bool, default=True
        Test-time augmentation: average the probabilities of each window and of its
        time-reversed copy.
    validation_fraction : float, default=0.2
        Fraction of training windows held out (chosen at random with
        ``random_state``) to compute ``val_loss`` and ``val_macro_f1`` after each
        epoch. 0 disables validation; so does having too few windows to hold one out.
    early_stopping : bool, default=False
        Stop when ``val_macro_f1`` has not improved for ``patience`` epochs and
        restore the best weights. Needs validation windows.
    patience : int, default=10
        Epochs without improvement tolerated by early stopping.
    class_weight : dict, "balanced", "balanced_sqrt" or None, default=None
        Per-class loss weights, applied to every sample of a window. ``"balanced"``:
        ``n_samples / (n_classes * count)`` as in scikit-learn; ``"balanced_sqrt"``: its
        square root, which still lifts rare classes (9 or 10 open channels) but keeps
        a few rare samples from dominating a batch's gradient (measured in
        ``docs/decisions.md``: macro-F1 0.855 vs 0.794).
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks for training (``ModelCheckpoint``, ``CSVLogger``,
        ``TensorBoard``, ``EarlyStopping`` on another metric, your own). Each ``fit``
        trains with deep copies, so the objects passed here are never bound to a
        network and the estimator stays clonable; the copies used by the last fit are
        in ``callbacks_``. They run after skion's own callbacks, so their logs
        already hold ``val_loss`` and ``val_macro_f1``.
    warm_start : bool, default=False
        Continue training the fitted network on the new data instead of building a
        new one (classes and number of features must match).
    init_model : str, path-like, keras.Model or SequenceUNetClassifier, default=None
        Pretrained network to start from when a new network is built (transfer
        learning): a fitted estimator (or a Pipeline ending in one), a ``keras.Model``
        from :func:`skion.build_unet`, a ``.keras`` file, or a file written by
        :meth:`save` or ``skion fit``. Its architecture must
        match ``filters``, ``kernel_size``, ``depth``, ``normalization`` and the number
        of features; every weight is copied except the per-sample head when the number
        of classes differs, which starts fresh. Prefer a path inside ``cross_val_score``
        or ``GridSearchCV``: ``clone`` turns an estimator parameter into an unfitted copy.
    freeze_encoder : bool, default=False
        With ``init_model``, keep the encoder (the contracting path, see
        :func:`skion.neural.encoder_layers`) fixed and train only the decoder and head:
        fewer weights to fit from a short recording.
    mixed_precision : {"auto", "float16", "bfloat16"} or bool, default="auto"
        Compute in float16 (``"float16"`` or True) or bfloat16 with float32 weights
        (Keras' ``mixed_float16``/``mixed_bfloat16`` policies; the output probabilities
        stay float32). ``"auto"`` picks float16 only when TensorFlow sees a GPU; on a
        CPU float16 slows training down. ``"bfloat16"`` trained the default network
        1.55-1.63x faster on a CPU with bfloat16 instructions (AVX512_BF16; AMX too),
        macro-F1 within 0.002 of float32; small networks bound by memory traffic gain
        little, and CPUs without those instructions are slower.
    jit_compile : bool or "auto", default=False
        Compile the training step with XLA (Keras' ``jit_compile``). Measured on CPU in
        ``docs/benchmarks.md``; ``"auto"`` lets Keras decide.
    random_state : int, RandomState instance or None, default=None
        Seeds window split, shuffling, augmentation and (when not None) Python's,
        NumPy's and Keras' global generators, so CPU fits are reproducible.
    run_eagerly : bool, default=False
        Train without compiling the training step into a graph. Tracing the step
        costs several seconds per fit, which dominates fits of only a few
        optimizer steps on tiny data; graph steps are about twice as fast after that.
    verbose : int, default=0
        Keras' training output: 0 silent, 1 a progress bar per epoch ending with the
        epoch's loss, learning rate and, with validation, ``val_loss`` and
        ``val_macro_f1``; 2 one line per epoch. At prediction, 1 or more shows a bar of
        the chunks of windows on standard error when there is more than one (a chunk
        holds 2**18 samples of windows, with flip TTA about 100,000 input samples).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``; columns of ``predict_proba`` follow them.
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` had string column names.
    model_ : keras.Model
        The trained network (pickled via Keras' ``.keras`` format).
    window_size_ : int
        Training window length actually used (rounded, capped by the data).
    history_ : dict of list
        Per-epoch ``loss``, ``learning_rate`` and, with validation, ``val_loss``
        and ``val_macro_f1``; ``batch_loss`` holds the training loss of every batch
        of every epoch, in order (``steps_per_epoch_`` per epoch).
    n_epochs_ : int
        Epochs run by the last ``fit`` (fewer than ``epochs`` after early stopping).
    steps_per_epoch_ : int
        Optimizer steps (batches) per epoch in the last ``fit``.
    n_transferred_layers_ : int
        Weighted layers copied from ``init_model`` (0 without one, or when
        continuing a warm start).
    callbacks_ : list of keras.callbacks.Callback
        The copies of ``callbacks`` used by the last fit (not pickled).

    See Also
    --------
    skion.build_unet : The network alone, as a Keras model.
    skion.windowing.make_windows : The windowing, as plain functions.

    Notes
    -----
    Predictions depend on neighbouring rows, so the row order of ``X`` must be
    time order; split with contiguous folds (``KFold(shuffle=False)``,
    ``GroupKFold``, ``TimeSeriesSplit``). Windows never cross a boundary between
    recordings marked by ``groups``: a recording is a maximal run of consecutive
    rows with the same group label.

    Examples
    --------
    >>> import numpy as np
    >>> from skion import SequenceUNetClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(rng.integers(0, 2, 40), 50)          # a slow two-state signal
    >>> X = (y + 0.3 * rng.standard_normal(y.size))[:, None]
    >>> clf = SequenceUNetClassifier(window_size=500, filters=8, depth=1, epochs=3,
    ...                              random_state=0)
    >>> clf.fit(X, y).predict(X).shape
    (2000,)
    >>> clf.predict_proba(X).shape
    (2000, 2)
    """

    _parameter_constraints: dict = {
        "window_size": [Interval(Integral, 1, None, closed="left")],
        "predict_window_size": [Interval(Integral, 1, None, closed="left"), None],
        "predict_margin": [Interval(Real, 0, 0.5, closed="left")],
        # Upper bounds keep a typo from exhausting memory or running for days.
        "filters": [Interval(Integral, 1, 1024, closed="both")],
        "kernel_size": [Interval(Integral, 1, 1001, closed="both")],
        "depth": [Interval(Integral, 0, 32, closed="both")],
        "batchnorm_momentum": [Interval(Real, 0, 1, closed="both")],
        "normalization": [StrOptions({"batch", "none"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "epochs": [Interval(Integral, 1, 100_000, closed="both")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions({"step", "cosine", "constant"}), callable],
        "flip_augment": [Interval(Real, 0, 1, closed="both")],
        "tta_flip": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced", "balanced_sqrt"}), None],
        "callbacks": [list, None],
        "warm_start": ["boolean"],
        "init_model": [str, os.PathLike, keras.Model, HasMethods(["fit", "predict"]), None],
        "freeze_encoder": ["boolean"],
        "mixed_precision": [StrOptions({"auto", "float16", "bfloat16"}), "boolean"],
        "jit_compile": [StrOptions({"auto"}), "boolean"],
        "random_state": ["random_state"],
        "run_eagerly": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        window_size=4000,
        predict_window_size=None,
        predict_margin=0.1,
        filters=64,
        kernel_size=7,
        depth=2,
        batchnorm_momentum=0.9,
        normalization="batch",
        dropout=0.0,
        epochs=60,
        batch_size=32,
        learning_rate=5e-4,
        lr_schedule="step",
        flip_augment=0.5,
        tta_flip=True,
        validation_fraction=0.2,
        early_stopping=False,
        patience=10,
        class_weight=None,
        callbacks=None,
        warm_start=False,
        init_model=None,
        freeze_encoder=False,
        mixed_precision="auto",
        jit_compile=False,
        random_state=None,
        run_eagerly=False,
        verbose=0,
    ):
        self.window_size = window_size
        self.predict_window_size = predict_window_size
        self.predict_margin = predict_margin
        self.filters = filters
        self.kernel_size = kernel_size
        self.depth = depth
        self.batchnorm_momentum = batchnorm_momentum
        self.normalization = normalization
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.flip_augment = flip_augment
        self.tta_flip = tta_flip
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.patience = patience
        self.class_weight = class_weight
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.init_model = init_model
        self.freeze_encoder = freeze_encoder
        self.mixed_precision = mixed_precision
        self.jit_compile = jit_compile
        self.random_state = random_state
        self.run_eagerly = run_eagerly
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        groups: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        validation_data: tuple | None = None,
    ) -> SequenceUNetClassifier:
        """Train the U-Net on the windows of every recording.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        y : array-like of shape (n_samples,)
            Class of each sample (integers such as open-channel counts, or strings).
        groups : array-like of shape (n_samples,), default=None
            Recording of each row; windows never cross recordings. None: one recording.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample loss weights (multiplied with ``class_weight``), non-negative and
            not all zero.
        validation_data : tuple, default=None
            ``(X_val, y_val)`` or ``(X_val, y_val, groups_val)``: recordings to score
            after every epoch instead of windows held out of the training data
            (``validation_fraction`` is then ignored and every training window is
            trained on). ``y_val`` may only hold classes seen in ``y``. In a
            ``Pipeline`` this reaches the classifier untransformed, so pass data that
            already went through the earlier steps.

        Returns
        -------
        self : SequenceUNetClassifier
            The fitted estimator.
        """
        user_callbacks = self._check_conflicts()  # before any work
        X, y = validate_data(self, X, y, dtype=np.float32, reset=not self._continuing())
        check_signal_range(X, largest=LARGEST_FLOAT32, dtype="float32 (the network's)")
        classes, y_encoded, per_class, weight = self._prepare_labels(X, y, sample_weight)
        rng = self._seeded_rng()
        plan, train, windows, val_windows = self._prepare_windows(
            X, y_encoded, weight, groups, validation_data, classes, per_class, rng
        )
        self._resolve_network(X.shape[1], classes, plan)
        self.callbacks_ = user_callbacks
        self._train(windows, train, val_windows, rng)
        return self

    # stages of fit, in order
    def _check_conflicts(self):
        """Refuse parameters that contradict each other, before any data is touched;
        return deep copies of ``callbacks`` (checked to be Keras callbacks)."""
        if self.freeze_encoder and self.init_model is None:
            raise ValueError(
                "freeze_encoder=True needs init_model: an untrained encoder would stay "
                "at its random initial weights."
            )
        if isinstance(self.class_weight, dict):
            bad = {k: v for k, v in self.class_weight.items() if not _is_weight(v)}
            if bad:
                raise ValueError(
                    f"class_weight must map classes to finite weights >= 0; got {bad}."
                )
            if self.class_weight and not any(self.class_weight.values()):
                raise ValueError(
                    "class_weight gives every class weight 0: nothing would be learned."
                )
        copies = []
        for callback in self.callbacks or []:
            if not isinstance(callback, keras.callbacks.Callback):
                raise TypeError(
                    "callbacks must hold keras.callbacks.Callback instances; got "
                    f"{type(callback).__name__}."
                )
            copies.append(copy.deepcopy(callback))
        return copies

    def _prepare_labels(self, X, y, sample_weight):
        """``(classes, encoded y, weight of each class, weight of each row)``."""
        classes, y_encoded = encode_labels(y)
        if len(classes) < 2:
            raise ValueError(
                f"SequenceUNetClassifier needs samples of at least 2 classes in y; "
                f"got 1 class: {classes[0]!r}."
            )
        if self._continuing() and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start=True needs the classes of the first fit {self.classes_.tolist()}; "
                f"got {classes.tolist()}."
            )
        per_class = self._class_weights(classes, y)
        weight = _check_sample_weight(sample_weight, X, dtype=np.float32, ensure_non_negative=True)
        return classes, y_encoded, per_class, weight * per_class[y_encoded]  # never in place

    def _seeded_rng(self):
        """The fit's generator; with ``random_state``, Keras' global seeds too."""
        seed = _draw_seed(self.random_state)
        if self.random_state is not None:
            keras.utils.set_random_seed(seed)
        return np.random.default_rng(seed)

    def _prepare_windows(
        self, X, y_encoded, weight, groups, validation_data, classes, per_class, rng
    ):
        """``(plan, training window indices, (x, y, weight) windows, validation windows)``."""
        recordings = Recordings(len(X), groups)
        window = self._window(self.window_size, recordings)
        plan = plan_windows(len(X), window, groups=recordings)
        windows = _training_windows(X, y_encoded, weight, plan)
        if validation_data is None:
            train, val = self._split_windows(plan.n_windows, rng)
            val_windows = tuple(part[val] for part in windows)
        else:
            train = np.arange(plan.n_windows)
            val_windows = self._validation_windows(validation_data, classes, per_class, window)
        if self.early_stopping and not len(val_windows[0]):
            raise ValueError(
                "early_stopping=True needs validation windows, but validation_fraction="
                f"{self.validation_fraction} of {plan.n_windows} window(s) of {plan.window} "
                "samples holds out none (at least one window must remain for training); "
                "raise it or pass validation_data."
            )
        return plan, train, windows, val_windows

    def _resolve_network(self, n_features, classes, plan):
        """A new (or transferred) network, or the fitted one with ``warm_start``."""
        if not self._continuing():
            self.model_, self.n_transferred_layers_ = self._initial_model(n_features, classes)
            self.classes_ = classes
        else:
            self.n_transferred_layers_ = 0
        self.window_size_ = plan.window

    def _train(self, windows, train, val_windows, rng):
        """Train on the ``train`` windows; record the history, or unfit on a NaN loss."""
        windows_x, windows_y, windows_w = windows
        batches, steps_per_epoch = window_batches(
            windows_x[train],
            windows_y[train],
            windows_w[train],
            batch_size=self.batch_size,
            flip_prob=self.flip_augment,
            epochs=self.epochs,
            rng=rng,
        )
        batch_loss = BatchLoss(len(train), self.batch_size)
        callbacks = [
            keras.callbacks.LearningRateScheduler(
                make_lr_schedule(self.lr_schedule, self.learning_rate, self.epochs)
            ),
            batch_loss,
        ]
        if len(val_windows[0]):
            callbacks.append(ValidationScores(*val_windows, batch_size=self.batch_size))
        if self.early_stopping:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_macro_f1",
                    mode="max",
                    patience=self.patience,
                    restore_best_weights=True,
                )
            )
        try:
            with forget_custom_gradients():  # or each fit keeps its training graph alive
                history = self.model_.fit(
                    batches,
                    epochs=self.epochs,
                    steps_per_epoch=steps_per_epoch,
                    shuffle=False,  # window_batches shuffles, reproducibly
                    callbacks=callbacks + self.callbacks_,
                    verbose=self.verbose,
                )
            self.history_ = {
                key: [float(v) for v in values] for key, values in history.history.items()
            }
            self.history_["batch_loss"] = batch_loss.losses
            self.n_epochs_ = len(self.history_["loss"])
            self.steps_per_epoch_ = steps_per_epoch
            _check_finite_loss(self.history_["loss"], self.learning_rate)
            _check_finite_output(
                self.model_, windows_x[train[: self.batch_size]], self.learning_rate
            )
        except (FloatingPointError, ValueError):  # diverged, or a schedule's bad rate
            for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
                delattr(self, name)  # unfitted again: a half-trained network must not predict
            raise

    def _continuing(self):
        return self.warm_start and hasattr(self, "model_")

    def _class_weights(self, classes, y):
        """Loss weight of each class (in the order of ``classes``)."""
        if self.class_weight is None:
            return np.ones(len(classes), dtype=np.float32)
        balanced = self.class_weight in ("balanced", "balanced_sqrt")
        weights = compute_class_weight(
            "balanced" if balanced else self.class_weight, classes=classes, y=y
        )
        if self.class_weight == "balanced_sqrt":
            weights = np.sqrt(weights)
        return weights.astype(np.float32)

    def _validation_windows(self, validation_data, classes, per_class, window):
        """``(x, y, weight)`` windows of explicit validation recordings."""
        if not isinstance(validation_data, tuple | list):
            raise ValueError(
                "validation_data must be a tuple (X_val, y_val) or (X_val, y_val, groups_val); "
                f"got {type(validation_data).__name__}."
            )
        if len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data must be a tuple (X_val, y_val) or (X_val, y_val, groups_val); "
                f"got one of length {len(validation_data)}."
            )
        X_val, y_val, *rest = validation_data
        groups_val = rest[0] if rest else None
        X_val, y_val = validate_data(self, X_val, y_val, dtype=np.float32, reset=False)
        unseen = np.setdiff1d(np.unique(y_val), classes)
        if len(unseen):
            raise ValueError(
                f"validation_data has labels not seen in y: {unseen.tolist()} "
                f"(classes of y: {classes.tolist()})."
            )
        y_encoded = np.searchsorted(classes, y_val)
        recordings = Recordings(len(X_val), groups_val)
        plan = plan_windows(len(X_val), self._window(window, recordings), groups=recordings)
        return _training_windows(X_val, y_encoded, per_class[y_encoded], plan)

    def _initial_model(self, n_features, classes):
        """A compiled new network, started from ``init_model`` when one is given."""
        n_classes = len(classes)
        policy = mixed_policy(self.mixed_precision)
        with policy_scope(policy) if policy else contextlib.nullcontext():
            model = build_unet(
                n_features,
                n_classes,
                filters=self.filters,
                kernel_size=self.kernel_size,
                depth=self.depth,
                batchnorm_momentum=self.batchnorm_momentum,
                normalization=self.normalization,
                dropout=self.dropout,
            )
        transferred = 0
        if self.init_model is not None:
            transferred = transfer_weights(resolve_init_model(self.init_model), model)
        if self.freeze_encoder:  # with init_model (_check_conflicts)
            for layer in encoder_layers(model):
                layer.trainable = False
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=self.learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            run_eagerly=self.run_eagerly,
            jit_compile=self.jit_compile,
        )
        # Create the optimizer's slot variables now, eagerly: created lazily inside the
        # first traced training step, their initialisers register ~500 graph functions
        # per fit in TensorFlow's global context that are never released (~80 MB of
        # resident memory per fit of a small U-Net, measured; see docs/decisions.md).
        model.optimizer.build(model.trainable_variables)
        return model, transferred

    def _split_windows(self, n_windows, rng):
        """Indices of training and validation windows (validation may be empty)."""
        order = rng.permutation(n_windows)
        n_val = round(self.validation_fraction * n_windows)
        if n_val == 0 or n_val >= n_windows:
            return np.arange(n_windows), np.array([], dtype=np.intp)
        return np.sort(order[n_val:]), np.sort(order[:n_val])

    @staticmethod
    def _window(requested, recordings):
        """Window length: a multiple of 125, no longer than the longest recording needs."""
        multiple = min_window_multiple()
        longest = int(recordings.lengths.max())
        return multiple * min(math.ceil(requested / multiple), math.ceil(longest / multiple))

    # --------------------------------------------------------------- prediction
    def predict_proba(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """Per-sample class probabilities, stitched from overlapping windows.

        Long inputs are processed in bounded chunks: memory beyond the returned
        array does not grow with the number of samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        groups : array-like of shape (n_samples,), default=None
            Recording of each row; windows never cross recordings.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), dtype float32
            Columns follow ``classes_``; rows sum to 1.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        check_signal_range(X, largest=LARGEST_FLOAT32, dtype="float32 (the network's)")
        recordings = Recordings(len(X), groups)
        window = self._window(self.predict_window_size or self.window_size, recordings)
        margin = int(self.predict_margin * window)
        plan = plan_windows(len(X), window, margin=margin, groups=recordings)
        proba = np.empty((len(X), len(self.classes_)), dtype=np.float32)
        chunk = max(1, _PREDICT_CHUNK_ROWS // (window * (2 if self.tta_flip else 1)))
        n_chunks = math.ceil(plan.n_windows / chunk)
        firsts = range(0, plan.n_windows, chunk)
        for first in progress(firsts, n_chunks, "predicting", self.verbose >= 1 and n_chunks > 1):
            index = slice(first, first + chunk)
            stitch_windows(
                self._forward(gather_windows(X, plan, index)), plan, out=proba, first_window=first
            )
        return proba

    def _forward(self, windows):
        """Network probabilities for a chunk of windows, with optional flip TTA."""
        if not self.tta_flip:
            return self.model_.predict_on_batch(windows)
        n = len(windows)
        both = self.model_.predict_on_batch(np.concatenate([windows, windows[:, ::-1]]))
        return 0.5 * (both[:n] + both[n:, ::-1])

    def predict(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """Most probable class of every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        groups : array-like of shape (n_samples,), default=None
            Recording of each row; windows never cross recordings.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X, groups=groups)
        return self.classes_[np.argmax(proba, axis=1)]

    # ------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> SequenceUNetClassifier:
        """Write the fitted estimator to one file, loadable by :meth:`load`.

        The file (a skion model file, as ``skion fit`` writes) holds data only: the
        estimator's parameters and fitted attributes, with the network in Keras'
        ``.keras`` format inside, plus the skion, scikit-learn and Keras versions that
        wrote it; loading it cannot run code. It loads in another process with the
        same major versions of these packages; a file of a newer skion format is
        refused with a message. ``callbacks`` are not stored (the loaded estimator has
        ``callbacks=None``; set them again to continue training); other parameters that
        hold Python objects, such as an ``lr_schedule`` function, cannot be stored and
        are refused with a message.

        Parameters
        ----------
        path : str or path-like
            Destination file (parent folders are created, an existing file replaced).

        Returns
        -------
        self : SequenceUNetClassifier
            The estimator, unchanged.
        """
        check_is_fitted(self)
        stored = copy.copy(self)  # shares the network; only the copy loses its callbacks
        stored.callbacks = None
        dump_estimator(stored, path)
        return self

    @classmethod
    def load(cls, path: str | os.PathLike) -> SequenceUNetClassifier:
        """Read an estimator written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            File written by :meth:`save`.

        Returns
        -------
        estimator : SequenceUNetClassifier
            The fitted estimator, ready to predict or to continue training.

        Raises
        ------
        skion.model_files.ModelFileError
            (a ``ValueError``) when the file is missing, not a skion model file, of a
            newer format, or holds another kind of estimator.
        """
        return load_estimator(path, expected_type=cls)

    # ------------------------------------------------------------ housekeeping
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: never touch the live __dict__
        state.pop("callbacks_", None)  # bound to model_; rebuilt by the next fit
        if "model_" in state:
            state["model_"] = model_to_bytes(state["model_"])
        if isinstance(state.get("history_"), dict):  # arrays: compact in model files
            state["history_"] = {
                key: np.asarray(values, dtype=np.float64)
                for key, values in state["history_"].items()
            }
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state = {**state, "model_": model_from_bytes(state["model_"])}
        if isinstance(state.get("history_"), dict):
            history = {
                key: np.asarray(values).tolist() for key, values in state["history_"].items()
            }
            state = {**state, "history_": history}
        super().__setstate__(state)


def _is_weight(value) -> bool:
    """A finite real number >= 0 (not a string, not a boolean)."""
    return (
        isinstance(value, Real)
        and not isinstance(value, bool)
        and np.isfinite(value)
        and value >= 0
    )


def _check_finite_loss(losses, learning_rate) -> None:
    """Raise when training diverged: a network with NaN weights predicts garbage."""
    bad = [epoch for epoch, loss in enumerate(losses, start=1) if not np.isfinite(loss)]
    if bad:
        raise FloatingPointError(
            f"training diverged: the loss was not finite from epoch {bad[0]} on "
            f"(learning_rate={learning_rate!r}; a smaller learning rate, finite class "
            "weights and a schedule that returns finite rates avoid it). The network's "
            "weights are not usable."
        )


def _check_finite_output(model, windows, learning_rate) -> None:
    """Raise when the trained network's output on a batch of its own training windows is
    not finite. The last epoch's loss is computed before its updates, so it can be
    finite while they broke the network (one epoch at ``learning_rate=1e30`` left finite
    weights of ~1e30 whose activations overflow)."""
    # a direct call: model.predict_on_batch would build (and keep) its predict function
    # in the training's run_eagerly mode
    if not np.isfinite(keras.ops.convert_to_numpy(model(windows, training=False))).all():
        raise FloatingPointError(
            "training diverged: the trained network's output is not finite "
            f"(learning_rate={learning_rate!r}; a smaller learning rate, finite class "
            "weights and a schedule that returns finite rates avoid it). The network's "
            "weights are not usable."
        )


def _training_windows(X, codes, weight, plan):
    """``(x, y, weight)`` windows of ``plan``; padding rows get weight 0."""
    return (
        gather_windows(X, plan),
        gather_windows(codes.astype(np.int32, copy=False), plan),
        gather_windows(weight, plan) * plan.valid_mask(),
    )


def _draw_seed(random_state) -> int:
    """An int seed from ``random_state`` (fresh entropy when None)."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
