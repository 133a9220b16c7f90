"""Progress of long work (a pg_dump, a restore check, a baseline capture) for the person waiting on it.

    with Progress("pg_dump osusproperties", total=140, unit="tables", size=db_bytes, stream=sys.stderr) as bar:
        bar.say("directory format, 2 jobs, zstd:1")       # a line of its own
        for table in tables:
            ...
            bar.advance(work=table_bytes, note=table)      # one more unit done, and its share of `size`
            bar.update(written=bytes_on_disk)              # absolute readings, any time
    # leaving the block prints the last line: "... done in 1:23" ("... stopped in 0:12" on an exception)

Inside a pytest test (phase 0, 1.1's restore check), take the stream from the plugin's
`progress_stream` fixture: it writes past pytest's output capture (None under xdist).

A status line says what is known, e.g.
    pg_dump osusproperties: 12/140 tables, 35% of ~1.2 GB, 210.3 MB written, 0:42 elapsed, ~1:18 left (public.account_move)
- units done / total (`advance`, or `update(done=...)`);
- the fraction: `work / size` when a size estimate was given (bytes of the work, e.g. from
  `pg_database_size` or the tables' sizes), else `done / total`; the time left is extrapolated
  from it (elapsed x (1 - f) / f) once a little of the work is done;
- bytes written (`update(written=...)`), and elapsed time.

Two modes, chosen by the stream (`tty=None`: the stream's isatty()):
- terminal: one line rewritten in place (carriage return + erase to its end), at most every
  `redraw` seconds, ended by a newline when the work ends;
- plain: a full line every `every` seconds (and the last line), for a log file, a pipe, CI.
`stream=None` shows nothing: the counters still work, so callers need no `if`.
Progress is for the operator only: nothing in the execution log depends on it, and it never
raises for a stream it cannot write (a closed terminal must not stop a backup).
`clock` is injectable, so both modes are tested without a terminal or waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

ERASE_TO_END = "\x1b[K"
MIN_FRACTION_FOR_ESTIMATE = 0.02  # below it an extrapolated time left is noise


def human_bytes(n: float) -> str:
    """1.2 GB, 210.3 MB, 512 B: decimal units, as `du -h --si` and pg_size_pretty's readers expect."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def clock_text(seconds: float) -> str:
    """0:42, 12:05, 1:02:03."""
    whole = max(0, int(seconds + 0.5))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """A reporter of one piece of long work; see the module docstring for the API and the modes."""

    def __init__(
        self,
        label: str,
        *,
        total: int | None = None,
        unit: str = "items",
        size: int | None = None,
        stream: TextIO | None = None,
        tty: bool | None = None,
        every: float = 10.0,
        redraw: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.size = size
        self.stream = stream
        self.tty = _is_tty(stream) if tty is None else tty
        self.every = every if not self.tty else redraw
        self.clock = clock
        self.done = 0
        self.work = 0
        self.written: int | None = None
        self.note = ""
        self.started = clock()
        self._last_shown: float | None = None
        self._closed = False

    # ---------------------------------------------------------------- readings

    def advance(self, n: int = 1, *, work: int = 0, note: str = "") -> None:
        """n more units done, `work` more bytes of the size estimate done; note: what just finished."""
        self.done += n
        self.work += work
        if note:
            self.note = note
        self._maybe_show()

    def update(self, *, done: int | None = None, work: int | None = None, written: int | None = None, note: str | None = None) -> None:
        """Absolute readings (units done, bytes of work done, bytes written, what runs now)."""
        if done is not None:
            self.done = done
        if work is not None:
            self.work = work
        if written is not None:
            self.written = written
        if note is not None:
            self.note = note
        self._maybe_show()

    # ---------------------------------------------------------------- figures

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def fraction(self) -> float | None:
        """0..1 of the work done: by the size estimate when there is one, else by units; None when unknown."""
        if self.size:
            return min(1.0, self.work / self.size)
        if self.total:
            return min(1.0, self.done / self.total)
        return None

    def remaining(self) -> float | None:
        """Seconds left, extrapolated from the fraction; None until enough is done to say."""
        f = self.fraction
        if f is None or f < MIN_FRACTION_FOR_ESTIMATE or f >= 1.0:
            return None
        return self.elapsed * (1 - f) / f

    def line(self, final: str = "") -> str:
        """The status text now; final: 'done' / 'stopped' for the last line."""
        parts = []
        if self.total is not None:
            parts.append(f"{min(self.done, self.total)}/{self.total} {self.unit}")
        elif self.done:
            parts.append(f"{self.done} {self.unit}")
        f = self.fraction
        if f is not None and self.size:
            parts.append(f"{f:.0%} of ~{human_bytes(self.size)}")
        elif f is not None:
            parts.append(f"{f:.0%}")
        if self.written is not None:
            parts.append(f"{human_bytes(self.written)} written")
        if final:
            parts.append(f"{final} in {clock_text(self.elapsed)}")
        else:
            parts.append(f"{clock_text(self.elapsed)} elapsed")
            left = self.remaining()
            if left is not None:
                parts.append(f"~{clock_text(left)} left")
        text = f"{self.label}: " + ", ".join(parts)
        return text + (f" ({self.note})" if self.note and not final else "")

    # ---------------------------------------------------------------- output

    def _maybe_show(self) -> None:
        now = self.clock()
        due = self._last_shown is None and now - self.started >= self.every
        due = due or (self._last_shown is not None and now - self._last_shown >= self.every)
        if due:
            self._show(self.line())
            self._last_shown = now

    def _show(self, text: str, end: bool = False) -> None:
        if self.stream is None:
            return
        try:
            if self.tty:
                self.stream.write("\r" + text + ERASE_TO_END + ("\n" if end else ""))
            else:
                self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: stop showing, keep working
            self.stream = None

    def say(self, text: str) -> None:
        """One line of its own (what is about to run, a warning); a terminal's status line is redrawn after it."""
        self._show(f"{self.label}: {text}", end=True)

    def close(self, outcome: str = "done") -> None:
        """Print the last line once: '<label>: ..., done in 1:23' (outcome 'stopped' after a failure)."""
        if self._closed:
            return
        self._closed = True
        if outcome == "done" and self.size:  # the estimate was only an estimate: the work is all done
            self.work = max(self.work, self.size)
        self._show(self.line(final=outcome), end=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close("done" if kind is None else "stopped")


def _is_tty(stream: TextIO | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False
