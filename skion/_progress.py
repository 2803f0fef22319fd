"""Bars of steps on standard error (rich, which Keras already depends on)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["progress", "stderr_bar"]


def stderr_bar(after: str | None = None, *, transient: bool = False):
    """A rich ``Progress`` on standard error: description, bar, ``n/total``, the text
    ``after`` (a format string over the task, e.g. ``"epochs {task.fields[scores]}"``),
    elapsed and remaining time. Not started."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    columns += [] if after is None else [TextColumn(after)]
    columns += [TimeElapsedColumn(), TimeRemainingColumn()]
    return Progress(*columns, console=Console(stderr=True), transient=transient)


def progress(steps: Iterable, total: int, description: str, enabled: bool) -> Iterator:
    """Yield ``steps``, advancing a bar of ``total`` on standard error when ``enabled``.

    The bar disappears when the steps are done (``transient``), so that what a command
    prints afterwards stays readable.
    """
    if not enabled:
        yield from steps
        return
    with stderr_bar(transient=True) as bar:
        task = bar.add_task(description, total=total)
        for step in steps:
            yield step
            bar.advance(task)
