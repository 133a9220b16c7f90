"""What a running pg_dump or pg_restore has done so far, fed to a deploylog.progress.Progress.

The size of the work comes from the catalogue, read without taking a lock
(a size query must never queue behind the window's own DDL):
`pg_database_size` for the whole database, and per table its pages as the
last VACUUM / ANALYZE counted them (`relpages`, TOAST included) - an estimate,
which is all a progress line needs.

- pg_dump (run here, on the Odoo host): its `--verbose` lines on stderr name
  each table as it starts ("dumping contents of table ...") and, with parallel
  jobs, as it ends ("finished item ... TABLE DATA ..."); a table is done when
  its end is reported, or (one process) when the next one starts. Bytes
  written are the size of the output file or directory, measured as it grows.
- pg_restore (run through the testinfra host, whose `run` returns only at the
  end): it runs in a thread while this one reads the scratch database's size
  and the number of its tables that received rows (pg_stat_user_tables,
  no locks taken), so the same code serves a local and an ssh host.

None of this decides anything: a failed reading only leaves the line short.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from deploylog.progress import Progress

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    import psycopg
    from psycopg.rows import TupleRow

POLL_S = 0.5  # how often a running tool's output is measured
T = TypeVar("T")


@dataclass(frozen=True)
class Estimate:
    """The size of a database's data as the catalogue tells it."""

    database_bytes: int = 0  # pg_database_size
    tables: dict[str, int] = field(default_factory=dict)  # "schema.table" -> estimated bytes (heap + TOAST)

    @property
    def table_bytes(self) -> int:
        return sum(self.tables.values())

    @property
    def tables_with_data(self) -> int:
        return sum(1 for size in self.tables.values() if size > 0)


# The tables pg_dump dumps the data of: ordinary tables outside the system schemas and extensions.
_TABLES = r"""
    SELECT n.nspname || '.' || c.relname,
           (c.relpages::bigint + coalesce(t.relpages, 0)) * current_setting('block_size')::bigint
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
     WHERE c.relkind = 'r'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')"""


def estimate(conninfo: str) -> Estimate | None:
    """The database's size and its tables' estimated sizes; None when the database cannot tell (no estimate shown)."""
    import psycopg

    try:
        with psycopg.connect(conninfo) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            tables = {str(name): int(size) for name, size in conn.execute(_TABLES).fetchall()}
    except psycopg.Error:
        return None
    return Estimate(int(row[0]) if row else 0, tables)


def output_size(path: Path) -> int:
    """Bytes of a dump being written: a file's size, or the sum of a directory's files."""
    try:
        if path.is_dir():
            return sum(entry.stat().st_size for entry in os.scandir(path) if entry.is_file())
        return path.stat().st_size
    except OSError:  # not created yet, or a file replaced while measured
        return 0


# ------------------------------------------------------------------ pg_dump

_STARTED = re.compile(r'dumping contents of table "(?P<name>.+)"\s*$')
_FINISHED = re.compile(r"finished item \d+ TABLE DATA (?P<table>.+?)\s*$")


class DumpWatch:
    """Tables done from pg_dump --verbose lines; each done table credits its estimated size."""

    def __init__(self, bar: Progress, sizes: Mapping[str, int], parallel: bool) -> None:
        self.bar = bar
        self.sizes = sizes
        self.parallel = parallel
        self.running: list[str] = []  # "schema.table" started, not yet known done

    def feed(self, line: str) -> None:
        if started := _STARTED.search(line):
            if not self.parallel:  # one process: the previous table is done when the next begins
                self._done_all()
            self.running.append(started.group("name"))
            self.bar.update(note=started.group("name"))
        elif finished := _FINISHED.search(line):
            tag = finished.group("table")
            name = next((n for n in self.running if n.endswith("." + tag) or n == tag), None)
            if name is not None:
                self.running.remove(name)
                self._done(name)

    def finish(self) -> None:
        """pg_dump ended well: whatever was still running is done."""
        self._done_all()

    def _done(self, name: str) -> None:
        self.bar.advance(work=self.sizes.get(name, 0), note=name)

    def _done_all(self) -> None:
        while self.running:
            self._done(self.running.pop(0))


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def run_watched(argv: Sequence[str], env: Mapping[str, str], output: Path, bar: Progress, watch: DumpWatch) -> tuple[int, str]:
    """(returncode, stderr) of pg_dump, its progress shown meanwhile.

    Whatever stops this (Ctrl-C, SIGTERM raised as KeyboardInterrupt, an error)
    stops pg_dump and waits for it and its workers to exit first, so the caller
    can remove the partial output knowing nothing writes into it any more.
    """
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        env=dict(env),
    )
    assert proc.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stderr, lines), daemon=True).start()
    collected: list[str] = []
    measured = 0.0
    try:
        while True:
            try:
                line = lines.get(timeout=POLL_S)
            except queue.Empty:
                line = ""
            if line is None:
                break
            if line:
                collected.append(line)
                watch.feed(line)
            if time.monotonic() - measured >= POLL_S:  # a directory of thousands of files is not re-measured per line
                bar.update(written=output_size(output))
                measured = time.monotonic()
        returncode = proc.wait()
    finally:
        _stop(proc)
    bar.update(written=output_size(output))
    if returncode == 0:
        watch.finish()
    return returncode, "".join(collected)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # pg_dump's leader stops its workers on SIGTERM
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------- pg_restore

_RESTORED = "SELECT pg_database_size(current_database()), (SELECT count(*) FROM pg_stat_user_tables WHERE n_tup_ins > 0)"


class _ScratchReader:
    """Readings of the scratch database being restored into: its size, and its tables that received rows."""

    def __init__(self, conninfo: str, bar: Progress) -> None:
        self.conninfo = conninfo
        self.bar = bar
        self.conn: psycopg.Connection[TupleRow] | None = None
        self.empty: int | None = None  # its size before pg_restore wrote anything

    def read(self) -> None:
        import psycopg

        try:
            self.conn = self.conn or psycopg.connect(self.conninfo, autocommit=True)  # autocommit: fresh statistics each time
            row = self.conn.execute(_RESTORED).fetchone()
        except psycopg.Error:
            return
        if row is not None:
            size, tables = int(row[0]), int(row[1])
            self.empty = size if self.empty is None else self.empty
            self.bar.update(done=tables, work=max(0, size - self.empty), written=size)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def run_restore_watched(run: Callable[[], T], scratch_conninfo: str, bar: Progress, interval: float = 1.0) -> T:
    """run() (pg_restore through the host, blocking) in a thread; the scratch database's growth shown meanwhile.

    bar.size is the source database's size; the scratch database is read once
    before pg_restore starts (an empty database's catalogue is not counted as
    restored), every `interval` seconds while it runs, and once when it ends.
    Nothing is shown (bar without a stream): run() runs here, nothing is read.
    """
    if bar.stream is None:
        return run()
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = run()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    reader = _ScratchReader(scratch_conninfo, bar)
    try:
        reader.read()
        worker = threading.Thread(target=target, daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(interval)
            reader.read()  # the last reading after pg_restore ended: the figures it left
    finally:
        reader.close()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
