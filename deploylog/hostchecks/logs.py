"""Phase 6 (and 3.4): the Odoo server log, read from its end.

Odoo's line format (odoo/netsvc.py):
    2025-12-22 10:15:03,123 4242 ERROR osusproperties odoo.addons.x.models.y: message
Lines that do not start with a timestamp continue the record above them
(tracebacks). The file is read backwards in blocks and the scan stops once it
passes the start of the window, so a multi-GB log costs only the size of the
deployment's tail. Timestamps are compared as text in the log's own zone
(service.log_timezone, UTC by default as Odoo logs), which needs no parsing
of the lines that are merely skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deploylog.hostchecks import hostio
from deploylog.result import CheckResult, failed, passed

BLOCK = 1 << 20
# Worker processes flush independently, so lines can be slightly out of order:
# keep reading this far past the window's start before stopping.
LOOKBEHIND = dt.timedelta(seconds=60)
MAX_CONTINUATION = 400  # lines kept per record: a traceback, not a runaway dump
MAX_SHOWN = 50  # records pasted into the evidence
ERROR_LEVELS = (b"ERROR", b"CRITICAL")
HEADER = re.compile(rb"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (\d+) ([A-Z]+) (\S+) (\S+?): ?(.*)$", re.S)


def _is_header(line: bytes) -> bool:
    # cheap test first: most lines of a big log are skipped on this alone
    return len(line) > 24 and line[4:5] == b"-" and line[10:11] == b" " and line[19:20] == b"," and line[:1].isdigit()


@dataclass
class Record:
    when: str  # as written in the log (log time zone)
    pid: str
    level: str
    db: str
    logger: str
    message: str
    continuation: list[str] = field(default_factory=list)
    source: str = ""
    non_utf8: bool = False

    @property
    def header(self) -> str:
        return f"{self.when} {self.pid} {self.level} {self.db} {self.logger}: {self.message}"

    def text(self) -> str:
        return "\n".join([self.header, *self.continuation])

    def mentions(self, module: str) -> bool:
        return self.logger.startswith(f"odoo.addons.{module}") or module in self.text()


def _decode(raw: bytes) -> tuple[str, bool]:
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), True


def _record(header: bytes, continuation: list[bytes], source: str) -> Record | None:
    m = HEADER.match(header)
    if not m:
        return None
    parts = [_decode(g) for g in m.groups()]
    cont = [_decode(c) for c in continuation]
    bad = any(b for _, b in parts) or any(b for _, b in cont)
    when, pid, level, db, logger, message = (p for p, _ in parts)
    return Record(when, pid, level, db, logger, message, [c for c, _ in cont], source, bad)


def reverse_lines(read: Callable[[int, int], bytes], size: int, block: int = BLOCK) -> Iterator[bytes]:
    """Lines of a file from the last to the first, reading `block` bytes at a time."""
    pos, carry, first = size, b"", True
    while pos > 0:
        n = min(block, pos)
        pos -= n
        chunk = read(pos, n) + carry
        lines = chunk.split(b"\n")
        carry = lines[0]
        tail = lines[1:]
        if first:
            first = False
            if tail and tail[-1] == b"":  # the file's final newline
                tail.pop()
        yield from reversed(tail)
    if carry or size:
        yield carry


@dataclass
class Scan:
    """What a scan of the log found (only ERROR/CRITICAL records are kept)."""

    path: str
    window: str
    errors: list[Record] = field(default_factory=list)  # chronological
    files: list[str] = field(default_factory=list)
    lines_read: int = 0
    bytes_read: int = 0
    records_in_window: int = 0
    oldest_seen: str = ""
    covered: bool = True
    notes: list[str] = field(default_factory=list)
    error: str = ""  # the log could not be read at all

    @property
    def non_utf8(self) -> int:
        return sum(1 for r in self.errors if r.non_utf8)

    def module_errors(self, module: str) -> list[Record]:
        return [r for r in self.errors if r.mentions(module)]


def _since_text(since: dt.datetime, tz: str) -> bytes:
    local = since.astimezone(ZoneInfo(tz))
    return local.strftime("%Y-%m-%d %H:%M:%S,").encode() + f"{local.microsecond // 1000:03d}".encode()


def _scan_file(host: Any, path: str, scan: Scan, since: bytes | None, stop: bytes | None, tail_lines: int) -> bool:
    """Scan one file backwards into `scan`; True when the scan reached the window's start."""
    st = hostio.stat(host, path)
    counted = 0

    def read(off, n):
        return hostio.read_range(host, path, off, n)

    pending: list[bytes] = []
    found: list[Record] = []
    reached = False
    for line in reverse_lines(read, st.size):
        scan.lines_read += 1
        scan.bytes_read += len(line) + 1
        counted += 1
        if tail_lines and counted > tail_lines:
            reached = True
            break
        if not _is_header(line):
            if len(pending) < MAX_CONTINUATION:
                pending.append(line)
            continue
        when = line[:23]
        scan.oldest_seen = when.decode("ascii", "replace")
        if stop is not None and when < stop:
            reached = True
            break
        in_window = since is None or when >= since
        if in_window:
            scan.records_in_window += 1
            level = line[24:].split(b" ", 2)[1] if b" " in line[24:] else b""
            if level in ERROR_LEVELS:
                rec = _record(line, list(reversed(pending)), path)
                if rec:
                    found.append(rec)
        pending = []
    scan.files.append(path)
    scan.errors[:0] = list(reversed(found))
    return reached


def scan_log(host: Any, path: str, since: dt.datetime | None, tail_lines: int = 0, tz: str = "UTC") -> Scan:
    """ERROR/CRITICAL records since `since` (or in the last `tail_lines` lines), reading from the end.

    When the log begins after `since` (rotated during the deployment), `<log>.1` is read too.
    """
    try:
        since_b = _since_text(since, tz) if since and not tail_lines else None
        stop_b = _since_text(since - LOOKBEHIND, tz) if since and not tail_lines else None
    except (ZoneInfoNotFoundError, ValueError):
        return Scan(path=path, window="-", error=f"service.log_timezone {tz!r} is not a known time zone", covered=False)
    window = f"last {tail_lines} lines" if tail_lines else f"since {since_b.decode()} ({tz})" if since_b else "whole file"
    scan = Scan(path=path, window=window)
    st = hostio.stat(host, path)
    if not st.exists:
        scan.error = f"log file not found: {path}"
        scan.covered = False
        return scan
    try:
        reached = _scan_file(host, path, scan, since_b, stop_b, tail_lines)
        if not reached and since_b is not None:
            rotated = f"{path}.1"
            if hostio.stat(host, rotated).exists:
                scan.notes.append(
                    f"{path} starts at {scan.oldest_seen or '(empty)'}, after the window's start: "
                    f"rotated during the deployment, {rotated} read too"
                )
                reached = _scan_file(host, rotated, scan, since_b, stop_b, 0)
            if not reached:
                scan.covered = False
                scan.notes.append(
                    f"the kept log starts at {scan.oldest_seen or '(empty)'}, after the window's start "
                    f"{since_b.decode()}: errors before that cannot be ruled out"
                )
    except OSError as exc:
        scan.error = f"cannot read {path}: {exc}"
        scan.covered = False
    if scan.non_utf8:
        scan.notes.append(f"{scan.non_utf8} record(s) hold non-UTF-8 bytes (shown as U+FFFD)")
    return scan


def tail(host: Any, path: str, lines: int = 20) -> list[str]:
    """The last lines of the log, decoded leniently (for the template's "TAIL -20")."""
    st = hostio.stat(host, path)
    if not st.exists:
        return []
    out: list[str] = []
    for raw in reverse_lines(lambda off, n: hostio.read_range(host, path, off, n), st.size, block=65536):
        out.append(_decode(raw)[0])
        if len(out) >= lines:
            break
    return list(reversed(out))


# ------------------------------------------------------------------ items


def scan_for(spec: Any, started_at: dt.datetime | None, host: Any | None = None) -> Scan:
    """The phase-6 scan: baseline window (or thresholds.log_tail_lines), in the log's time zone."""
    host = host or hostio.local_host()
    if not spec.paths.log_file:
        return Scan(path="", window="-", error="paths.log_file is not set in deploy.toml", covered=False)
    return scan_log(
        host, spec.paths.log_file, started_at, spec.thresholds.log_tail_lines, getattr(spec.service, "log_timezone", "UTC")
    )


def _command(spec: Any, scan: Scan) -> str:
    if spec.thresholds.log_tail_lines:
        return f"tail -{spec.thresholds.log_tail_lines} {scan.path} | grep -c 'ERROR\\|CRITICAL'"
    return f"read {scan.path} backwards, records {scan.window} with level ERROR or CRITICAL"


def _header(scan: Scan) -> list[str]:
    lines = [
        f"Log: {scan.path}",
        f"Window: {scan.window}",
        f"Read: {', '.join(scan.files)} ({scan.lines_read} lines, {scan.bytes_read} bytes from the end)",
    ]
    return lines + [f"Note: {n}" for n in scan.notes]


def _unusable(item: str, scan: Scan, host: Any) -> CheckResult | None:
    if scan.error:
        return failed(item, scan.error, evidence="\n".join(_header(scan)), host=hostio.host_name(host))
    if not scan.covered:
        return failed(
            item, f"log does not cover the window: {scan.notes[-1]}", evidence="\n".join(_header(scan)), host=hostio.host_name(host)
        )
    return None


def error_count(spec: Any, scan: Scan, host: Any | None = None) -> CheckResult:
    """6.1: ERROR/CRITICAL records in the window <= thresholds.max_log_errors (0)."""
    host = host or hostio.local_host()
    bad = _unusable("6.1", scan, host)
    if bad:
        return bad
    count = len(scan.errors)
    limit = spec.thresholds.max_log_errors
    shown = [r.header for r in scan.errors[-MAX_SHOWN:]]
    evidence = "\n".join([*_header(scan), f"Count: {count}", f"Expected: <= {limit}", "", *shown])
    figures = {"errors": count, "critical": sum(r.level == "CRITICAL" for r in scan.errors), "lines_read": scan.lines_read}
    kw = {"evidence": evidence, "queries": [_command(spec, scan)], "figures": figures, "host": hostio.host_name(host)}
    if count > limit:
        return failed("6.1", f"ERRORS PRESENT: {count} ERROR/CRITICAL record(s) {scan.window}", **kw)
    return passed("6.1", f"NO ERRORS {scan.window}" + (f" ({count} <= {limit})" if count else ""), **kw)


def module_errors(spec: Any, scan: Scan, host: Any | None = None) -> CheckResult:
    """6.2: no ERROR/CRITICAL record from the module (its logger, or its name in the message/traceback)."""
    host = host or hostio.local_host()
    bad = _unusable("6.2", scan, host)
    if bad:
        return bad
    module = spec.deployment.module
    found = scan.module_errors(module)
    shown = [r.header for r in found[-MAX_SHOWN:]] or ["NONE"]
    evidence = "\n".join([*_header(scan), "", "Result:", *shown])
    kw = {
        "evidence": evidence,
        "host": hostio.host_name(host),
        "figures": {"module_errors": len(found)},
        "queries": [f"{_command(spec, scan)}, logger odoo.addons.{module}* or mentioning {module}"],
    }
    if found:
        first = found[0]
        return failed("6.2", f"MODULE ERRORS: {len(found)}, first at {first.when} {first.logger}: {first.message[:120]}", **kw)
    return passed("6.2", f"NO MODULE ERRORS from {module} {scan.window}", **kw)


def error_details(spec: Any, scan: Scan, host: Any | None = None) -> CheckResult:
    """6.3: the full messages and tracebacks of every ERROR/CRITICAL record found."""
    host = host or hostio.local_host()
    bad = _unusable("6.3", scan, host)
    if bad:
        return bad
    if not scan.errors:
        return passed(
            "6.3", "no errors: nothing to paste", evidence="\n".join([*_header(scan), "", "NONE"]), host=hostio.host_name(host)
        )
    blocks = [r.text() for r in scan.errors[-MAX_SHOWN:]]
    more = len(scan.errors) - len(blocks)
    evidence = "\n\n".join(
        ["\n".join(_header(scan)), *blocks] + ([f"({more} earlier record(s) not shown; see 6.1)"] if more > 0 else [])
    )
    tracebacks = sum(1 for r in scan.errors if any(c.startswith("Traceback") for c in r.continuation))
    last = scan.errors[-1]
    return failed(
        "6.3",
        f"{len(scan.errors)} error record(s), {tracebacks} with traceback; last: {last.logger}: {last.message[:100]}",
        evidence=evidence,
        host=hostio.host_name(host),
        figures={"records": len(scan.errors), "tracebacks": tracebacks},
    )


def since_restart(spec: Any, started: dt.datetime | None, host: Any) -> tuple[Scan | None, list[Record]]:
    """3.4: module errors since the service (re)started; (None, []) when no log is configured."""
    if not spec.paths.log_file:
        return None, []
    scan = scan_log(host, spec.paths.log_file, started, 0, getattr(spec.service, "log_timezone", "UTC"))
    return scan, scan.module_errors(spec.deployment.module)
