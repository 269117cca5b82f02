"""Where a map stands, in words: shared by ``MapProgress`` and the progress bars of ``_live``
(which ``_map`` must not import: the bars load only when asked for)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["MapCounts", "counts_text"]


class MapCounts(Protocol):
    """Where a map stands (a :class:`MapProgress`, a batch run's progress): what a progress bar reads."""

    @property
    def total(self) -> int | None:
        """The number of inputs, None while unknown."""
        ...

    @property
    def done(self) -> int:
        """Inputs finished, successfully or not."""
        ...

    @property
    def failed(self) -> int:
        """Inputs finished with an error."""
        ...

    @property
    def running(self) -> int:
        """Jobs in flight."""
        ...

    @property
    def cancelled(self) -> int:
        """Jobs the map cancelled itself."""
        ...


def counts_text(counts: MapCounts) -> str:
    """Where a map stands in words: ``"7/10 done, 1 failed, 2 running"`` (and ``", 3 cancelled"``
    when the map cancelled some). ``counts`` has ``total``, ``done``, ``failed``, ``running`` and
    ``cancelled`` (a :class:`MapCounts`)."""
    text = f"{counts.done}/{counts.total} done" if counts.total is not None else f"{counts.done} done"
    text += f", {counts.failed} failed, {counts.running} running"
    if counts.cancelled:
        text += f", {counts.cancelled} cancelled"
    return text
