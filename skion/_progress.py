"""A bar of steps on standard error (rich, which Keras already depends on)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["progress"]


def progress(steps: Iterable, total: int, description: str, enabled: bool) -> Iterator:
    """Yield ``steps``, advancing a bar of ``total`` on standard error when ``enabled``.

    The bar disappears when the steps are done (``transient``), so that what a command
    prints afterwards stays readable.
    """
    if not enabled:
        yield from steps
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        for step in steps:
            yield step
            bar.advance(task)
