"""deploylog.progress: the reporter's two modes, driven by a fake clock (no terminal, no waiting)."""

from __future__ import annotations

import io
import re

import pytest

from deploylog.progress import ERASE_TO_END, Progress, clock_text, human_bytes


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_plain_mode_prints_a_full_line_every_interval_and_the_last_one():
    clock, out = Clock(), io.StringIO()
    with Progress("pg_dump db", total=4, unit="tables", size=4_000_000, stream=out, tty=False, every=10, clock=clock) as bar:
        bar.say("directory format, 2 jobs")
        clock.now += 5
        bar.advance(work=1_000_000, note="public.a")  # 5 s: not yet due
        clock.now += 5
        bar.update(written=2_500_000)  # 10 s: due
        clock.now += 3
        bar.advance(work=1_000_000, note="public.b")  # 13 s: 3 s after the last line
        clock.now += 7
        bar.advance(2, work=2_000_000, note="public.d")  # 20 s: due
    assert out.getvalue().splitlines() == [
        "pg_dump db: directory format, 2 jobs",
        "pg_dump db: 1/4 tables, 25% of ~4.0 MB, 2.5 MB written, 0:10 elapsed, ~0:30 left (public.a)",
        "pg_dump db: 4/4 tables, 100% of ~4.0 MB, 2.5 MB written, 0:20 elapsed (public.d)",
        "pg_dump db: 4/4 tables, 100% of ~4.0 MB, 2.5 MB written, done in 0:20",
    ]


def test_terminal_mode_redraws_one_line_in_place():
    clock, out = Clock(), io.StringIO()
    with Progress("restore check x", total=2, unit="tables loaded", stream=out, tty=True, clock=clock) as bar:
        clock.now += 1
        bar.update(done=1, written=1500)
        clock.now += 0.1  # redrawn at most every 0.2 s
        bar.update(done=1, written=1700)
        clock.now += 0.2
        bar.update(done=2, written=2000)
    shown = out.getvalue()
    assert shown == (
        f"\rrestore check x: 1/2 tables loaded, 50%, 1.5 kB written, 0:01 elapsed, ~0:01 left{ERASE_TO_END}"
        f"\rrestore check x: 2/2 tables loaded, 100%, 2.0 kB written, 0:01 elapsed{ERASE_TO_END}"
        f"\rrestore check x: 2/2 tables loaded, 100%, 2.0 kB written, done in 0:01{ERASE_TO_END}\n"
    )


def test_stream_decides_the_mode_and_none_shows_nothing():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert Progress("x", stream=Terminal()).tty and not Progress("x", stream=io.StringIO()).tty
    quiet = Progress("x", total=3)  # no stream: counts, prints nothing, needs no `if` in the caller
    quiet.advance(3)
    quiet.close()
    assert quiet.fraction == 1.0


def test_failure_ends_with_stopped_and_a_broken_stream_never_raises():
    clock, out = Clock(), io.StringIO()
    with pytest.raises(RuntimeError), Progress("pg_dump db", total=10, unit="tables", stream=out, every=0, clock=clock) as bar:
        clock.now += 61
        bar.advance(3)
        raise RuntimeError("pg_dump failed")
    assert out.getvalue().splitlines()[-1] == "pg_dump db: 3/10 tables, 30%, stopped in 1:01"
    closed = io.StringIO()
    closed.close()
    bar = Progress("x", stream=closed, every=0)
    bar.advance()  # a closed terminal must not stop a backup
    bar.close()


def test_no_estimate_before_enough_is_done_and_the_units_when_no_size():
    clock = Clock()
    bar = Progress("phase 0", total=1000, unit="rows", clock=clock)
    clock.now += 30
    bar.advance(10)  # 1 %: too little to extrapolate from
    assert bar.remaining() is None and "left" not in bar.line()
    bar.advance(240)
    assert bar.remaining() == pytest.approx(90.0)
    assert bar.line() == "phase 0: 250/1000 rows, 25%, 0:30 elapsed, ~1:30 left"
    unknown = Progress("phase 0", unit="rows", clock=clock)
    unknown.advance(5)
    assert unknown.fraction is None and re.fullmatch(r"phase 0: 5 rows, 0:00 elapsed", unknown.line())


def test_human_units():
    assert [human_bytes(n) for n in (0, 999, 1000, 1_234_567, 3_400_000_000)] == ["0 B", "999 B", "1.0 kB", "1.2 MB", "3.4 GB"]
    assert [clock_text(s) for s in (0, 42.4, 605, 3723)] == ["0:00", "0:42", "10:05", "1:02:03"]
