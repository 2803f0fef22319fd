"""``skion idealize FOLDER --out FOLDER [--scheduler ADDRESS]``: every recording file of a
folder, one after another here or one task per file on a Dask cluster
(:func:`skion.idealize_files`)."""

from __future__ import annotations

from ._errors import CommandError

__all__ = ["idealize_folder"]


def idealize_folder(args, reading, echo=print) -> int:
    """Idealize the files of ``args.data`` into ``args.out``; 1 if any file was refused."""
    from .._many_files import idealize_files
    from ._idealize import check_method_options

    check_method_options(args.method, args.n_channels, args.line_freq, args.current_sign)
    client = None
    if args.scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            raise CommandError('--scheduler needs Dask: pip install "skion[dask]"') from None
        try:
            client = Client(args.scheduler, timeout="5s")
        except (OSError, ValueError) as error:  # unreachable, or not an address
            raise CommandError(f"no Dask scheduler at {args.scheduler}: {error}") from None
    where = "in this process" if client is None else f"on the Dask scheduler at {args.scheduler}"
    echo(f"idealizing the recording files of {args.data} {where} ...")
    try:
        report = idealize_files(
            args.data,
            args.out,
            client=client,
            method=args.method,
            line_freq=args.line_freq,
            n_channels=args.n_channels,
            current_sign=args.current_sign,
            sampling_rate=reading["sampling_rate"],
            channel=reading["channel"],
            units=reading["units"],
            batch_size=reading["batch_size"],
            verbose=1,
        )
    finally:
        if client is not None:
            client.close()
    failed = int(report["error"].notna().sum())
    echo(
        f"wrote {len(report) - failed} of {len(report)} file(s) to {args.out} "
        "(NAME.csv: time,open_channels; NAME.json: the summary)"
    )
    return 1 if failed else 0
