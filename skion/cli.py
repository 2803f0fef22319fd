"""The ``skion`` command line."""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["main"]


def _demo(args) -> int:
    """Fit the U-Net and a pointwise baseline on a synthetic recording; print macro-F1."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from . import SequenceUNetClassifier
    from .datasets import make_telegraph

    n_samples = args.n_samples or (60_000 if args.quick else 400_000)
    epochs = args.epochs or (8 if args.quick else 10)
    X, y = make_telegraph(
        n_samples,
        n_channels=3,
        p_open=0.01,
        p_close=0.02,
        noise=0.35,
        random_state=args.random_state,
    )
    split = int(0.75 * n_samples)  # contiguous: the first 75 % trains, the rest tests
    X_train, y_train, X_test, y_test = X[:split], y[:split], X[split:], y[split:]
    print(
        f"skion demo: 3-channel synthetic recording, {n_samples:,} samples "
        f"({split:,} train / {n_samples - split:,} test, contiguous)"
    )
    models = {
        "logistic regression (pointwise)": make_pipeline(StandardScaler(), LogisticRegression()),
        "SequenceUNetClassifier": make_pipeline(
            StandardScaler(),
            SequenceUNetClassifier(
                window_size=1000,
                filters=16,
                depth=1,
                batch_size=8,
                epochs=epochs,
                learning_rate=3e-3,
                random_state=args.random_state,
                verbose=args.verbose,
            ),
        ),
    }
    print(f"{'model':<34} {'macro-F1':>9} {'fit s':>8} {'predict s':>10}")
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fitted = time.perf_counter()
        y_pred = model.predict(X_test)
        done = time.perf_counter()
        score = f1_score(y_test, y_pred, average="macro")
        print(f"{name:<34} {score:>9.3f} {fitted - start:>8.1f} {done - fitted:>10.1f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skion`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="skion", description="Deep segmentation of ion-channel recordings."
    )
    parser.add_argument("--version", action="version", version=f"skion {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit the U-Net on embedded synthetic data and report macro-F1"
    )
    demo.add_argument("--quick", action="store_true", help="smaller data and fewer epochs")
    demo.add_argument("--n-samples", type=int, default=None, help="length of the recording")
    demo.add_argument("--epochs", type=int, default=None, help="U-Net training epochs")
    demo.add_argument("--random-state", type=int, default=0, help="seed")
    demo.add_argument("--verbose", type=int, default=0, choices=(0, 1, 2), help="Keras output")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``skion`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "n_samples", None) is not None and args.n_samples < 1000:
        parser.error(f"--n-samples must be at least 1000, got {args.n_samples}")
    if getattr(args, "epochs", None) is not None and args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    return args.handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
