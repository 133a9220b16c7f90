"""Phase 6 (and 3.4): the Odoo server log, read from its end.

Odoo's line format (odoo/netsvc.py):
    2025-12-22 10:15:03,123 4242 ERROR osusproperties odoo.addons.x.models.y: message
Lines that do not start with a timestamp continue the record above them
(tracebacks). The file is read backwards in blocks and the scan stops once it
passes the start of the window, so a multi-GB log costs only the size of the
deployment's tail. Timestamps are compared as text in the log's own zone
(service.log_timezone, UTC by default as Odoo logs), which needs no parsing
of the lines that are merely skipped.

Hostile input (one line holding a 200 MB base64 attachment, a traceback of a
million lines, a million errors) costs bounded memory: a line keeps its head
and tail, a record a bounded traceback, the scan counts every error but keeps
only the records it pastes (see the limits below and docs/host-items.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deploylog.hostchecks import hostio
from deploylog.result import CheckResult, failed, passed, verdict
from deploylog.spec import Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.host import Host

BLOCK = 1 << 20
# Worker processes flush independently, so lines can be slightly out of order:
# keep reading this far past the window's start before stopping.
LOOKBEHIND = dt.timedelta(seconds=60)
# Limits on what is kept of the log (bytes of the file, cut on UTF-8 character boundaries):
LINE_HEAD = 8192  # a longer line keeps its first 8 KiB (the timestamp header, the message's start) ...
LINE_TAIL = 2048  # ... and its last 2 KiB, around "… truncated: N bytes omitted …"
MAX_CONTINUATION = 400  # continuation lines kept per record (the end of a traceback) ...
MAX_RECORD_BYTES = 65536  # ... within this many bytes, plus the record's first continuation line ("Traceback ...")
MAX_SHOWN = 50  # error records kept and pasted into the evidence: the last 50 (and the first), all counted
ERROR_LEVELS = (b"ERROR", b"CRITICAL")
HEADER = re.compile(rb"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (\d+) ([A-Z]+) (\S+) (\S+?): ?(.*)$", re.S)


def truncated(count: int, lines: int = 0) -> str:
    """The marker left where `count` bytes (of `lines` whole lines) of the log were cut out."""
    return f"… truncated: {count} bytes omitted{f' ({lines} lines)' if lines else ''} …"


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

    @property
    def has_traceback(self) -> bool:
        return any(c.startswith("Traceback") for c in self.continuation)

    def text(self) -> str:
        return "\n".join([self.header, *self.continuation])

    def mentions(self, module: str) -> bool:
        """Its logger is the module's, or the module's name is in its (kept) text."""
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


def _utf8_head(data: bytes, size: int) -> bytes:
    """At most the first `size` bytes, not ending inside a UTF-8 sequence."""
    if len(data) <= size:
        return data
    for cut in range(size, max(size - 4, 0), -1):
        if data[cut] & 0xC0 != 0x80:  # data[cut] starts a character: cut before it
            return data[:cut]
    return data[:size]  # not UTF-8 here anyway


def _utf8_tail(data: bytes, size: int) -> bytes:
    """At most the last `size` bytes, not starting inside a UTF-8 sequence."""
    if len(data) <= size:
        return data
    start = len(data) - size
    for cut in range(start, min(start + 4, len(data))):
        if data[cut] & 0xC0 != 0x80:
            return data[cut:]
    return data[start:]


def cap_line(line: bytes) -> bytes:
    """A whole line as the scan keeps it: longer than LINE_HEAD + LINE_TAIL, its head, the marker, its tail."""
    if len(line) <= LINE_HEAD + LINE_TAIL:
        return line
    return _around_marker(_utf8_head(line, LINE_HEAD), len(line), _utf8_tail(line, LINE_TAIL))


def _around_marker(head: bytes, length: int, tail: bytes) -> bytes:
    """A line of `length` bytes cut to its head and tail, the marker in between."""
    return b"%s %s %s" % (head, truncated(length - len(head) - len(tail)).encode(), tail)


class ReverseLines:
    """Lines of a file from the last to the first, reading `block` bytes at a time, each capped (cap_line).

    A line longer than a block is assembled from several blocks; once it is too
    long only what can still become its head is kept (its tail is fixed when
    first seen), so memory stays at one block plus one capped line whatever the
    line's length. After each line, `length` is its full length in the file.
    """

    def __init__(self, read: Callable[[int, int], bytes], size: int, block: int = BLOCK) -> None:
        self.read, self.size, self.block = read, size, block
        self.length = 0

    def __iter__(self) -> Iterator[bytes]:
        limit = LINE_HEAD + LINE_TAIL
        pos, first = self.size, True
        head, tail, length = b"", b"", 0  # the line being assembled: its start so far, its fixed end, its length
        while pos > 0:
            n = min(self.block, pos)
            pos -= n
            pieces = self.read(pos, n).split(b"\n")
            if first:
                first = False
                if len(pieces) > 1 and pieces[-1] == b"":  # the file's final newline
                    pieces.pop()
            head, length = pieces[-1] + head, length + len(pieces[-1])
            if len(pieces) == 1:  # no line starts in this block
                if length > limit:
                    if not tail:
                        tail = _utf8_tail(head, LINE_TAIL)
                        head = head[: len(head) - len(tail)]
                    head = head[: LINE_HEAD + 4]  # what can still be the start; 4 bytes to cut on a character
                continue
            yield self._finish(head, tail, length)
            for piece in reversed(pieces[1:-1]):
                self.length = len(piece)
                yield piece if len(piece) <= limit else cap_line(piece)
            head, tail, length = pieces[0], b"", len(pieces[0])
        if self.size:
            yield self._finish(head, tail, length)

    def _finish(self, head: bytes, tail: bytes, length: int) -> bytes:
        self.length = length
        if not tail:
            return cap_line(head)
        return _around_marker(_utf8_head(head, LINE_HEAD), length, tail)


def reverse_lines(read: Callable[[int, int], bytes], size: int, block: int = BLOCK) -> Iterator[bytes]:
    """Lines of a file from the last to the first (see ReverseLines)."""
    return iter(ReverseLines(read, size, block))


class _Continuation:
    """The lines seen (backwards) since the last header: a record's traceback, kept within the limits.

    Seen from the end, the lines kept are the traceback's last ones (the
    exception); past the limits only the earliest line seen so far is kept (a
    traceback's "Traceback (most recent call last):"), the ones in between counted.
    """

    __slots__ = ("first", "first_length", "lines", "omitted_bytes", "omitted_lines", "size")

    def __init__(self) -> None:
        self.lines: list[bytes] = []  # newest first
        self.size = 0
        self.first: bytes | None = None
        self.first_length = 0
        self.omitted_lines = 0
        self.omitted_bytes = 0

    def add(self, line: bytes, length: int) -> None:
        """Add the line before the ones added so far; `length` is its length in the file."""
        if self.first is None and len(self.lines) < MAX_CONTINUATION and self.size + len(line) <= MAX_RECORD_BYTES:
            self.lines.append(line)
            self.size += len(line) + 1
            return
        if self.first is not None:
            self.omitted_lines += 1
            self.omitted_bytes += self.first_length + 1
        self.first, self.first_length = line, length

    def chronological(self) -> list[bytes]:
        out = [] if self.first is None else [self.first]
        if self.omitted_lines:
            out.append(truncated(self.omitted_bytes, self.omitted_lines).encode())
        return out + self.lines[::-1]


@dataclass
class Tally:
    """ERROR/CRITICAL records of one kind: every one counted, the last MAX_SHOWN and the first kept."""

    count: int = 0
    critical: int = 0
    tracebacks: int = 0
    non_utf8: int = 0
    first: Record | None = None  # the earliest in the window
    newest: list[Record] = field(default_factory=list)  # the last MAX_SHOWN, newest first

    def add(self, record: Record) -> None:
        """Count a record; they arrive newest first (the log is read backwards)."""
        self.count += 1
        self.critical += record.level == "CRITICAL"
        self.tracebacks += record.has_traceback
        self.non_utf8 += record.non_utf8
        if len(self.newest) < MAX_SHOWN:
            self.newest.append(record)
        self.first = record

    @property
    def last(self) -> list[Record]:
        """The last MAX_SHOWN records, oldest first."""
        return self.newest[::-1]


@dataclass
class Scan:
    """What a scan of the log found: ERROR/CRITICAL records counted, the ones shown kept."""

    path: str
    window: str
    module: str = ""  # whose errors are tallied apart (6.2, 3.4)
    error_records: Tally = field(default_factory=Tally)
    module_records: Tally = field(default_factory=Tally)
    files: list[str] = field(default_factory=list)
    lines_read: int = 0
    bytes_read: int = 0
    records_in_window: int = 0
    oldest_seen: str = ""
    covered: bool = True
    notes: list[str] = field(default_factory=list)
    error: str = ""  # the log could not be read at all

    @property
    def errors(self) -> list[Record]:
        """The last MAX_SHOWN error records, oldest first (error_records.count says how many in all)."""
        return self.error_records.last

    @property
    def non_utf8(self) -> int:
        return self.error_records.non_utf8

    def add(self, record: Record) -> None:
        self.error_records.add(record)
        if self.module and record.mentions(self.module):
            self.module_records.add(record)


def _since_text(since: dt.datetime, tz: str) -> bytes:
    local = since.astimezone(ZoneInfo(tz))
    return local.strftime("%Y-%m-%d %H:%M:%S,").encode() + f"{local.microsecond // 1000:03d}".encode()


def _scan_file(host: Host, path: str, scan: Scan, since: bytes | None, stop: bytes | None, tail_lines: int) -> bool:
    """Scan one file backwards into `scan`; True when the scan reached the window's start."""
    st = hostio.stat(host, path)
    counted = 0

    def read(off: int, n: int) -> bytes:
        return hostio.read_range(host, path, off, n)

    lines = ReverseLines(read, st.size)
    pending = _Continuation()
    reached = False
    for line in lines:
        scan.lines_read += 1
        scan.bytes_read += lines.length + 1
        counted += 1
        if tail_lines and counted > tail_lines:
            reached = True
            break
        if not _is_header(line):
            pending.add(line, lines.length)
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
                rec = _record(line, pending.chronological(), path)
                if rec:
                    scan.add(rec)
        if pending.lines or pending.first is not None:
            pending = _Continuation()
    scan.files.append(path)
    return reached


def scan_log(host: Host, path: str, since: dt.datetime | None, tail_lines: int = 0, tz: str = "UTC", module: str = "") -> Scan:
    """ERROR/CRITICAL records since `since` (or in the last `tail_lines` lines), reading from the end.

    When the log begins after `since` (rotated during the deployment), `<log>.1` is read too.
    The records of `module` are tallied apart too (Scan.module_records).
    """
    try:
        since_b = _since_text(since, tz) if since and not tail_lines else None
        stop_b = _since_text(since - LOOKBEHIND, tz) if since and not tail_lines else None
    except (ZoneInfoNotFoundError, ValueError):
        return Scan(path=path, window="-", error=f"service.log_timezone {tz!r} is not a known time zone", covered=False)
    window = f"last {tail_lines} lines" if tail_lines else f"since {since_b.decode()} ({tz})" if since_b else "whole file"
    scan = Scan(path=path, window=window, module=module)
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


def tail(host: Host, path: str, lines: int = 20) -> list[str]:
    """The last lines of the log (each capped), decoded leniently (for the template's "TAIL -20")."""
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


def scan_for(spec: Spec, started_at: dt.datetime | None, host: Host) -> Scan:
    """The phase-6 scan: baseline window (or thresholds.log_tail_lines), in the log's time zone."""
    if not spec.paths.log_file:
        return Scan(path="", window="-", error="paths.log_file is not set in deploy.toml", covered=False)
    return scan_log(
        host,
        spec.paths.log_file,
        started_at,
        spec.thresholds.log_tail_lines,
        spec.service.log_timezone,
        spec.deployment.module,
    )


def _command(spec: Spec, scan: Scan) -> str:
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


def _earlier(tally: Tally) -> list[str]:
    """The line saying how many records are counted but not pasted (none below MAX_SHOWN)."""
    more = tally.count - len(tally.newest)
    return [f"({more} earlier record(s) not shown)"] if more > 0 else []


def _unusable(item: str, scan: Scan, host: Host) -> CheckResult | None:
    if scan.error:
        return failed(item, scan.error, evidence="\n".join(_header(scan)), host=hostio.host_name(host))
    if not scan.covered:
        return failed(
            item, f"log does not cover the window: {scan.notes[-1]}", evidence="\n".join(_header(scan)), host=hostio.host_name(host)
        )
    return None


def error_count(spec: Spec, scan: Scan, host: Host) -> CheckResult:
    """6.1: ERROR/CRITICAL records in the window <= thresholds.max_log_errors (0)."""
    bad = _unusable("6.1", scan, host)
    if bad:
        return bad
    found = scan.error_records
    count = found.count
    limit = spec.thresholds.max_log_errors
    shown = [r.header for r in found.last]
    evidence = "\n".join([*_header(scan), f"Count: {count}", f"Expected: <= {limit}", "", *_earlier(found), *shown])
    figures = {"errors": count, "critical": found.critical, "lines_read": scan.lines_read}
    kw = {"evidence": evidence, "queries": [_command(spec, scan)], "figures": figures, "host": hostio.host_name(host)}
    if count > limit:
        return failed("6.1", f"ERRORS PRESENT: {count} ERROR/CRITICAL record(s) {scan.window}", **kw)
    return passed("6.1", f"NO ERRORS {scan.window}" + (f" ({count} <= {limit})" if count else ""), **kw)


def module_errors(spec: Spec, scan: Scan, host: Host) -> CheckResult:
    """6.2: no ERROR/CRITICAL record from the module (its logger, or its name in the message/traceback)."""
    bad = _unusable("6.2", scan, host)
    if bad:
        return bad
    module = spec.deployment.module
    found = scan.module_records
    shown = [*_earlier(found), *(r.header for r in found.last)] or ["NONE"]
    evidence = "\n".join([*_header(scan), "", "Result:", *shown])
    first = found.first
    return verdict(
        "6.2",
        first is None,
        f"MODULE ERRORS: {found.count}, first at {first.when} {first.logger}: {first.message[:120]}"
        if first is not None
        else f"NO MODULE ERRORS from {module} {scan.window}",
        evidence=evidence,
        host=hostio.host_name(host),
        figures={"module_errors": found.count},
        queries=[f"{_command(spec, scan)}, logger odoo.addons.{module}* or mentioning {module}"],
    )


def error_details(spec: Spec, scan: Scan, host: Host) -> CheckResult:
    """6.3: the full messages and tracebacks of every ERROR/CRITICAL record found (the last MAX_SHOWN)."""
    bad = _unusable("6.3", scan, host)
    if bad:
        return bad
    found = scan.error_records
    if not found.newest:
        return passed(
            "6.3", "no errors: nothing to paste", evidence="\n".join([*_header(scan), "", "NONE"]), host=hostio.host_name(host)
        )
    blocks = [r.text() for r in found.last]
    more = found.count - len(blocks)
    evidence = "\n\n".join(
        ["\n".join(_header(scan)), *blocks] + ([f"({more} earlier record(s) not shown; see 6.1)"] if more > 0 else [])
    )
    last = found.newest[0]
    return failed(
        "6.3",
        f"{found.count} error record(s), {found.tracebacks} with traceback; last: {last.logger}: {last.message[:100]}",
        evidence=evidence,
        host=hostio.host_name(host),
        figures={"records": found.count, "tracebacks": found.tracebacks},
    )


def since_restart(spec: Spec, started: dt.datetime | None, host: Host) -> tuple[Scan | None, Tally]:
    """3.4: the module's errors since the service (re)started; (None, no records) when no log is configured."""
    if not spec.paths.log_file:
        return None, Tally()
    scan = scan_log(host, spec.paths.log_file, started, 0, spec.service.log_timezone, spec.deployment.module)
    return scan, scan.module_records
