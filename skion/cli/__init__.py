"""The ``skion`` command line: ``demo``, ``fit``, ``predict``, ``evaluate``, ``idealize``,
``kinetics``, ``info``, ``convert-model``.

Run ``skion COMMAND --help`` for the options of each command. Model files and data
formats are described in :mod:`skion.cli._files`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .._pieces import PIECE_ROWS
from .._version import __version__
from ._errors import CommandError, check_inputs

__all__ = ["build_parser", "main"]

# Handlers are named ``_<command>_command``: a bare ``_demo`` would be replaced by the
# submodule ``skion.cli._demo`` as soon as that is imported.


def _positive_int(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _show_progress(args) -> bool:
    """Progress bars by default on a terminal; not with --quiet, --verbose or in pipes."""
    return not args.quiet and not getattr(args, "verbose", 0) and sys.stderr.isatty()


def _show_tensorflow_log(args) -> None:
    """``--verbose 2`` also shows TensorFlow's start-up log (see skion.neural._tensorflow)."""
    if args.verbose >= 2:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")


def _demo_command(args) -> int:
    _show_tensorflow_log(args)
    from ._demo import run_demo

    n_samples = args.n_samples or 1_000_000
    run_demo(
        n_samples=n_samples,
        quick=args.quick,
        epochs=args.epochs,
        out=args.out,
        random_state=args.random_state,
        verbose=args.verbose,
        progress=_show_progress(args),
    )
    return 0


def _reading(args):
    """The options of how to read DATA, shared by every command that reads one."""
    return {
        "sampling_rate": args.sampling_rate,
        "channel": args.channel,
        "units": args.units,
        "batch_size": args.batch_size,
    }


def _fit_command(args) -> int:
    _show_tensorflow_log(args)
    from ._files import fit

    params = {"epochs": args.epochs, "window_size": args.window_size, "filters": args.filters}
    fit(
        args.data,
        args.model,
        reading=_reading(args),
        random_state=args.random_state,
        verbose=args.verbose,
        progress=_show_progress(args),
        calibration=args.calibration,
        **{name: value for name, value in params.items() if value is not None},
    )
    return 0


def _predict_command(args) -> int:
    from ._files import predict

    predict(
        args.data,
        args.model,
        args.out,
        reading=_reading(args),
        other_rate=args.other_rate,
        events=args.events,
        progress=_show_progress(args),
        piece_rows=args.piece_samples,
    )
    return 0


def _evaluate_command(args) -> int:
    from ._files import evaluate

    evaluate(
        args.data,
        args.model,
        reading=_reading(args),
        other_rate=args.other_rate,
        progress=_show_progress(args),
        piece_rows=args.piece_samples,
    )
    return 0


def _info_command(args) -> int:
    from ._files import describe_model

    describe_model(args.model)
    return 0


def _convert_model_command(args) -> int:
    from ..model_files import convert_model_file

    convert_model_file(args.model, args.out, trust=args.trust)
    print(f"wrote {args.out} (a data-only model file)")
    return 0


def _idealize_command(args) -> int:
    from pathlib import Path

    if Path(args.data).is_dir():
        from ._folder import idealize_folder

        return idealize_folder(args, _reading(args))
    if args.scheduler is not None:
        raise CommandError(
            "--scheduler runs the files of a folder on a Dask cluster; give a folder as DATA"
        )
    from ._idealize import idealize

    idealize(
        args.data,
        args.out,
        reading=_reading(args),
        summary=args.summary,
        line_freq=args.line_freq,
        n_channels=args.n_channels,
        current_sign=args.current_sign,
        method=args.method,
        verbose=True if args.progress else (False if args.quiet else None),
        events=args.events,
        piece_rows=args.piece_samples,
    )
    return 0


def _kinetics_command(args) -> int:
    from ._kinetics import kinetics

    kinetics(
        args.data,
        args.out,
        t_res=args.t_res,
        n_channels=args.n_channels,
        max_components=args.max_components,
        dwt=args.dwt,
        scn=args.scn,
        unitary_current=args.unitary_current,
    )
    return 0


def _float(text, allow_zero=False):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value >= 0 if allow_zero else value > 0) or value == float("inf"):
        kind = "non-negative" if allow_zero else "positive"
        raise argparse.ArgumentTypeError(f"must be a {kind} number, got {text}")
    return value


def _positive_float(text):
    return _float(text)


def _non_negative_float(text):
    return _float(text, allow_zero=True)


def _channels(text):
    return text if text == "auto" else _positive_int(1)(text)


def _channel(text):
    """A binary file's channel index, or a channel or CSV column name."""
    return int(text) if text.isdigit() else text


def _add_reading_options(command, *, folder=False):
    command.add_argument(
        "data",
        help=".csv (signal[,time][,open_channels][,recording]; any constant rate), .abf, or "
        "with the neo extra .edr, .wcp (WinEDR, WinWCP), .axgd, .axgx (AxoGraph), .nix, "
        ".smr (CED Spike2); "
        "with the nwb extra .nwb (Neurodata Without Borders)"
        + ("; or a folder of such files (--out is then a folder)" if folder else ""),
    )
    reading = command.add_argument_group("reading DATA (where the file does not say)")
    reading.add_argument(
        "--sampling-rate", type=_positive_float, help="Hz, for a CSV without a time column"
    )
    reading.add_argument(
        "--channel",
        type=_channel,
        help="binary files: channel index or name (default: the first current channel); CSV: "
        "the signal column's name",
    )
    reading.add_argument(
        "--units", help="unit of the signal (pA, nA, uA, pS, ...; default pA); nA, uA -> pA"
    )
    reading.add_argument(
        "--batch-size",
        type=_positive_int(1),
        default=None,
        help="rows per recording for a file that marks none (no 'recording' column, time "
        "never restarting); default 500,000, as in the competition files, for longer files",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skion`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        Parses ``skion``'s arguments; the parsed namespace's ``handler`` runs the command.

    See Also
    --------
    main : Parse and run.

    Examples
    --------
    >>> from skion.cli import build_parser
    >>> args = build_parser().parse_args(["fit", "train.csv", "--model", "unet.skion"])
    >>> args.command, args.data, args.batch_size, args.epochs
    ('fit', 'train.csv', None, None)
    """
    parser = argparse.ArgumentParser(
        prog="skion", description="Deep segmentation of ion-channel recordings."
    )
    parser.add_argument("--version", action="version", version=f"skion {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="cross-validate the U-Net against HMM and gradient-boosting baselines "
        "on embedded synthetic recordings",
    )
    demo.add_argument(
        "--quick",
        action="store_true",
        help="the same recordings, 10 U-Net epochs instead of 60: a shorter smoke run",
    )
    demo.add_argument(
        "--n-samples",
        type=_positive_int(20_000),  # at 10,000 a rig's recordings had 625 rows; 1,000 calibrate
        default=None,
        help="samples in all 8 recordings (default 1,000,000; shorter recordings are "
        "too short to calibrate without labels on every rig)",
    )
    demo.add_argument("--epochs", type=_positive_int(1), default=None, help="U-Net epochs")
    demo.add_argument(
        "--out", default="skion-demo", help="folder for results and plots (default skion-demo)"
    )
    demo.set_defaults(handler=_demo_command)

    fit = commands.add_parser("fit", help="fit the U-Net pipeline on a labelled file")
    fit.add_argument("--epochs", type=_positive_int(1), default=None, help="training epochs")
    fit.add_argument("--window-size", type=_positive_int(125), default=None, help="samples")
    fit.add_argument("--filters", type=_positive_int(1), default=None, help="network width")
    fit.add_argument(
        "--calibration",
        choices=("labels", "recording"),
        default="labels",
        help="labels: one lattice learned from the training labels (default); recording: "
        "each recording in open-channel units, calibrated without labels, so the model "
        "predicts other rigs (slower)",
    )
    predict = commands.add_parser("predict", help="write per-sample predictions as CSV")
    predict.add_argument("--out", required=True, help="CSV to write (time,open_channels)")
    evaluate = commands.add_parser("evaluate", help="macro-F1 and per-class scores of a model")

    info = commands.add_parser(
        "info", help="what a model file holds: versions, steps, training conditions"
    )
    info.add_argument("model", help="model file (written by fit)")
    info.set_defaults(handler=_info_command)

    convert = commands.add_parser(
        "convert-model",
        help="rewrite a model file of skion 0.1 (a pickle) as a data-only model file",
    )
    convert.add_argument("model", help="model file written by skion 0.1")
    convert.add_argument("out", help="converted model file to write")
    convert.add_argument(
        "--trust",
        action="store_true",
        help="required: reading the old file unpickles it, which runs any code it names; "
        "give it only for a file you trust",
    )
    convert.set_defaults(handler=_convert_model_command)

    idealize = commands.add_parser(
        "idealize",
        help="open channels of every sample of a recording without labels (AggregatedHMM "
        "or the pretrained U-Net)",
    )
    idealize.add_argument("--out", required=True, help="CSV to write (time,open_channels)")
    idealize.add_argument("--summary", help="JSON to write: channels, levels, noise, rates")
    idealize.add_argument("--line-freq", type=_positive_float, help="mains hum to fit: 50 or 60")
    idealize.add_argument(
        "--n-channels", type=_channels, default="auto", help="channels (default auto)"
    )
    idealize.add_argument(
        "--current-sign",
        choices=("auto", "positive", "negative"),
        default="auto",
        help="direction of the unitary current where known (outward: positive); default "
        "auto, from the kinetics (a warning says when they barely tell)",
    )
    idealize.add_argument(
        "--method",
        choices=("hmm", "unet"),
        default="hmm",
        help="hmm: AggregatedHMM fitted to the file (default); unet: the pretrained U-Net "
        "shipped with skion, on every recording in open-channel units",
    )
    progress = idealize.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress", action="store_true", help="print every EM iteration (default on a terminal)"
    )
    progress.add_argument("--quiet", action="store_true", help="no per-iteration output")
    idealize.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with a folder as DATA: run its files on this Dask scheduler (tcp://host:8786; "
        "needs the dask extra; workers must see the files and --out at the same paths)",
    )
    idealize.set_defaults(handler=_idealize_command)

    kinetics = commands.add_parser(
        "kinetics",
        help="open probability, dwell times, exponential fits and bursts of an idealization",
    )
    kinetics.add_argument(
        "data",
        help="CSV of events (written by --events) or of per-sample counts "
        "(time,open_channels, as predict and idealize write)",
    )
    kinetics.add_argument(
        "--t-res",
        type=_non_negative_float,
        default=0.0,
        help="resolution (s): shorter events are merged into their neighbours, and dwell "
        "times fitted from it up (default 0: none)",
    )
    kinetics.add_argument(
        "--n-channels",
        type=_positive_int(1),
        default=None,
        help="channels in the patch, for Po (default: the most seen open at once)",
    )
    kinetics.add_argument(
        "--max-components",
        type=_positive_int(1),
        default=4,
        help="most exponential components per level; the number is chosen by BIC (default 4)",
    )
    kinetics.add_argument(
        "--out", help="folder for dwell-time histograms (PNG), kinetics.json and exports"
    )
    kinetics.add_argument("--dwt", action="store_true", help="also write QuB's events.dwt")
    kinetics.add_argument(
        "--scn", action="store_true", help="also write a SCAN .scn file per recording (HJCFIT)"
    )
    kinetics.add_argument(
        "--unitary-current",
        type=float,
        default=1.0,
        help="current of one channel (pA) for the amplitudes of --dwt and --scn (default 1)",
    )
    kinetics.set_defaults(handler=_kinetics_command)

    for command in (fit, predict, evaluate, idealize):
        _add_reading_options(command, folder=command is idealize)
    for command in (predict, evaluate, idealize):
        command.add_argument(
            "--piece-samples",
            type=_positive_int(10_000),
            default=PIECE_ROWS,
            metavar="N",
            help=f"samples read and predicted at a time (default {PIECE_ROWS:,}): memory "
            "stays bounded however long the file; a longer recording is cut into near-equal "
            "parts, each calibrated on its own; idealize fits the HMM on 8 spans of a longer "
            "file, N samples in all",
        )
    for command in (predict, idealize):
        command.add_argument(
            "--events",
            help="CSV to write the events to (recording,level,start,duration,...), for "
            "skion kinetics",
        )
    for command, handler in [
        (fit, _fit_command),
        (predict, _predict_command),
        (evaluate, _evaluate_command),
    ]:
        command.add_argument("--model", required=True, help="model file (written by fit)")
        command.set_defaults(handler=handler)
    for command in (predict, evaluate):
        command.add_argument(
            "--other-rate",
            choices=("auto", "resample", "refuse"),
            default="auto",
            help="data at another sampling rate than the model's: auto (default) predicts "
            "them as read, cleaned at their rate; resample to the model's rate; refuse",
        )
        command.add_argument(
            "--quiet",
            action="store_true",
            help="no bar of the U-Net's chunks (shown on a terminal; none in pipes)",
        )
    for command in (demo, fit):
        command.add_argument("--random-state", type=int, default=0, help="seed")
        command.add_argument(
            "--verbose",
            type=int,
            default=0,
            choices=(0, 1, 2),
            help="Keras training output: 1 a progress bar, 2 a line per epoch and "
            "TensorFlow's start-up log (default: a bar of epochs on a terminal)",
        )
        command.add_argument(
            "--quiet", action="store_true", help="no progress bar (none in pipes either)"
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skion`` console script.

    Parameters
    ----------
    argv : sequence of str, default=None
        The arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when a file or value was rejected (the reason is printed on
        standard error). Invalid arguments exit through ``argparse`` with status 2.

    Examples
    --------
    >>> from skion.cli import main
    >>> main(["evaluate", "no-such-file.csv", "--model", "no-such-model.skion"])
    1
    """
    args = build_parser().parse_args(argv)
    try:
        check_inputs(args)
        return args.handler(args)
    except (CommandError, ValueError, ImportError) as error:
        print(f"skion {args.command}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a file that could not be read or written after the checks
        print(f"skion {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
