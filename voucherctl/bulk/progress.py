"""How far a bulk run is, on stderr: a live bar on a terminal, a plain line now and then in a
log (cron, CI), where carriage-return animations would only make noise.

Both say rows done of all, the rate, failed or unknown rows, and, while the workers wait for
the API's quota to reset, until when (the shared Pacer knows).
"""

import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voucherctl.api.transport.pacing import Pacer
    from voucherctl.ui.environment import Environment

LOG_EVERY_SECONDS = 30.0


class Progress:
    """Started by a run's Report, told of every row that ends."""

    def __init__(self, env: "Environment", command: str, total: int, pacer: "Pacer | None") -> None:
        self.env = env
        self.command = command
        self.total = total
        self.pacer = pacer
        self.done = self.bad = 0
        self._started = time.monotonic()
        self._live: Any = None
        self._task: Any = None
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self) -> None:
        if self.env.options.quiet or not self.total:
            return
        if self.env.stderr_isatty:
            self._start_live()
        else:
            self._ticker = threading.Thread(target=self._log, name="progress", daemon=True)
            self._ticker.start()

    def row_ended(self, bad: bool) -> None:
        self.done += 1
        self.bad += bad
        if self._live is not None:
            self._live.update(self._task, advance=1, bad=self.bad, waiting=self._waiting())

    def stop(self) -> None:
        self._stopped.set()
        if self._live is not None:
            self._live.stop()
        if self._ticker is not None:
            self._ticker.join()

    def line(self) -> str:
        """The plain progress line a log gets."""
        seconds = time.monotonic() - self._started
        rate = self.done / seconds if seconds > 0 else 0.0
        text = f"{self.command}: {self.done} of {self.total} rows"
        text += f" ({100 * self.done // self.total}%)" if self.total else ""
        text += f", {rate:.1f} rows/s"
        if self.bad:
            text += f", {self.bad} failed or unknown"
        waiting = self._waiting()
        if waiting:
            text += f"; {waiting}"
        elif rate > 0:
            text += f"; about {_span((self.total - self.done) / rate)} left"
        return text

    def _waiting(self) -> str:
        return (self.pacer.waiting_text if self.pacer else None) or ""

    def _log(self) -> None:
        while not self._stopped.wait(LOG_EVERY_SECONDS):
            self.env.info(self.line())

    def _start_live(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            ProgressColumn,
            Task,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Live
        from rich.text import Text

        class RateColumn(ProgressColumn):
            def render(self, task: Task) -> Text:
                return Text(f"{task.speed:.0f}/s" if task.speed else "")

        self._live = Live(
            TextColumn(self.command),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TextColumn("failed or unknown: {task.fields[bad]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[waiting]}"),
            console=Console(file=self.env.stderr),
            transient=True,
        )
        self._task = self._live.add_task(self.command, total=self.total, bad=0, waiting="")
        self._live.start()


def _span(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
