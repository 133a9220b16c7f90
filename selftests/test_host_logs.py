"""Phase 6 (6.1-6.3) on real Odoo-format log files: windows, tracebacks, rotation, bad bytes."""

from __future__ import annotations

import datetime as dt
import random
import tracemalloc
from pathlib import Path

import pytest

from deploylog.demo import odoo_log as hl
from deploylog.hostchecks import logs, service
from selftests.support.host_spec import LOCAL, make_spec

T0 = dt.datetime(2025, 12, 22, 10, 0, 0, tzinfo=dt.UTC)  # phase 0 started
RESTART = T0 + dt.timedelta(minutes=12)


def spec_for(path: Path, **thresholds):
    return make_spec(paths={"log_file": str(path)}, thresholds=thresholds)


def run_all(spec, since=T0):
    scan = logs.scan_for(spec, since, LOCAL)
    return scan, logs.error_count(spec, scan, LOCAL), logs.module_errors(spec, scan, LOCAL), logs.error_details(spec, scan, LOCAL)


def test_healthy_log_is_clean_although_older_errors_exist(tmp_path):
    path = hl.healthy_log(tmp_path / "odoo-server.log", T0, RESTART)
    scan, r1, r2, r3 = run_all(spec_for(path))
    assert [r.status for r in (r1, r2, r3)] == ["PASS"] * 3, (r1.message, r2.message, r3.message)
    assert "since 2025-12-22 10:00:00,000 (UTC)" in r1.evidence
    assert r2.evidence.rstrip().endswith("NONE")
    # read from the end and stopped at the window: the week-old history was not scanned whole
    assert scan.lines_read < len(path.read_text().splitlines())


def test_module_error_after_restart_fails_6_1_6_2_and_6_3_pastes_the_traceback(tmp_path):
    path = hl.healthy_log(tmp_path / "odoo-server.log", T0, RESTART)
    hl.write_log(path, hl.module_error(RESTART + dt.timedelta(minutes=3)), mode="a")
    _, r1, r2, r3 = run_all(spec_for(path))
    assert r1.status == "FAIL" and r1.figures["errors"] == 1
    assert r2.status == "FAIL" and r2.item == "6.2"
    assert "odoo.http: Exception during request handling." in r2.message
    assert r3.status == "FAIL"
    for needle in hl.KEYERROR_TRACEBACK:
        assert needle in r3.evidence


def test_error_of_another_module_is_counted_but_not_a_module_error(tmp_path):
    path = hl.healthy_log(tmp_path / "odoo-server.log", T0, RESTART)
    hl.write_log(path, hl.other_error(RESTART + dt.timedelta(minutes=1)), mode="a")
    _, r1, r2, r3 = run_all(spec_for(path))
    assert (r1.status, r2.status, r3.status) == ("FAIL", "PASS", "FAIL")
    assert "ConnectionRefusedError" in r3.evidence


def test_module_logger_and_critical_level(tmp_path):
    path = hl.healthy_log(tmp_path / "odoo-server.log", T0, RESTART)
    hl.write_log(
        path,
        [
            hl.line(
                RESTART + dt.timedelta(seconds=9),
                "CRITICAL",
                "odoo.addons.payment_account_enhanced.models.account_payment",
                "guard failed",
            )
        ],
        "a",
    )
    _, r1, r2, _ = run_all(spec_for(path))
    assert r1.status == "FAIL" and r1.figures["critical"] == 1
    assert r2.status == "FAIL" and "guard failed" in r2.message


def test_max_log_errors_threshold(tmp_path):
    path = hl.healthy_log(tmp_path / "odoo-server.log", T0, RESTART)
    hl.write_log(path, hl.other_error(RESTART + dt.timedelta(minutes=1)), mode="a")
    _, r1, _, _ = run_all(spec_for(path, max_log_errors=1))
    assert r1.status == "PASS" and "(1 <= 1)" in r1.message


def test_template_tail_mode_counts_only_the_last_lines(tmp_path):
    lines = [*hl.module_error(T0 + dt.timedelta(minutes=20)), *hl.requests(T0 + dt.timedelta(minutes=21), 250)]
    path = hl.write_log(tmp_path / "odoo-server.log", lines)
    _, r1, *_ = run_all(spec_for(path, log_tail_lines=200))
    assert r1.status == "PASS" and "last 200 lines" in r1.evidence
    _, r1, *_ = run_all(spec_for(path, log_tail_lines=300))
    assert r1.status == "FAIL" and "tail -300" in r1.queries[0]


def test_rotated_log_is_followed_into_dot_1(tmp_path):
    path = tmp_path / "odoo-server.log"
    hl.write_log(Path(f"{path}.1"), [*hl.requests(T0 - dt.timedelta(hours=1), 5), *hl.module_error(T0 + dt.timedelta(minutes=2))])
    hl.write_log(path, [*hl.startup(RESTART), *hl.requests(RESTART, 10)])
    scan, r1, r2, r3 = run_all(spec_for(path))
    assert r1.status == "FAIL" and r2.status == "FAIL"
    assert scan.files == [str(path), f"{path}.1"]
    assert "rotated during the deployment" in r1.evidence
    assert "KeyError: 'account.bank.reconciliation.line'" in r3.evidence


def test_log_not_reaching_back_to_the_window_is_not_a_pass(tmp_path):
    path = hl.write_log(tmp_path / "odoo-server.log", [*hl.startup(RESTART), *hl.requests(RESTART, 10)])
    _, r1, r2, r3 = run_all(spec_for(path))
    assert {r1.status, r2.status, r3.status} == {"FAIL"}
    assert "log does not cover the window" in r1.message


def test_absent_log_is_a_clear_failure(tmp_path):
    _, r1, r2, r3 = run_all(spec_for(tmp_path / "missing.log"))
    assert {r1.status, r2.status, r3.status} == {"FAIL"}
    assert r1.message == f"log file not found: {tmp_path / 'missing.log'}"


def test_non_utf8_bytes_do_not_crash(tmp_path):
    path = hl.healthy_log(tmp_path / "odoo-server.log", T0, RESTART)
    bad = hl.line(RESTART + dt.timedelta(minutes=1), "ERROR", "odoo.addons.payment_account_enhanced", "caf").encode()
    with path.open("ab") as fh:
        fh.write(bad + b"\xe9 \xff\xfe r\xe9f\n\x80\x81 continuation\n")
    _scan, r1, r2, r3 = run_all(spec_for(path))
    assert r1.status == "FAIL" and r2.status == "FAIL"
    assert "non-UTF-8" in r1.evidence and "\ufffd" in r3.evidence


def test_log_timezone_is_honoured(tmp_path):
    dubai = dt.timezone(dt.timedelta(hours=4))
    path = tmp_path / "odoo-server.log"
    # written in local time (UTC+4): an error at 13:30 local is 09:30 UTC, before phase 0 (10:00 UTC)
    when = T0.astimezone(dubai) - dt.timedelta(minutes=30)
    text = f"{when:%Y-%m-%d %H:%M:%S},000 7 ERROR osusproperties odoo.addons.payment_account_enhanced: early\n"
    later = T0.astimezone(dubai) + dt.timedelta(minutes=30)
    text += f"{later:%Y-%m-%d %H:%M:%S},000 7 INFO osusproperties odoo: fine\n"
    path.write_text(text)
    spec = make_spec(paths={"log_file": str(path)}, service={"log_timezone": "Asia/Dubai"})
    assert logs.error_count(spec, logs.scan_for(spec, T0, LOCAL), LOCAL).status == "PASS"
    utc_spec = make_spec(paths={"log_file": str(path)})
    assert logs.error_count(utc_spec, logs.scan_for(utc_spec, T0 - dt.timedelta(hours=5), LOCAL), LOCAL).status == "FAIL"


def test_unknown_timezone_is_a_clear_failure(tmp_path):
    path = hl.healthy_log(tmp_path / "odoo-server.log", T0, RESTART)
    spec = make_spec(paths={"log_file": str(path)}, service={"log_timezone": "Mars/Olympus"})
    r = logs.error_count(spec, logs.scan_for(spec, T0, LOCAL), LOCAL)
    assert r.status == "FAIL" and "Mars/Olympus" in r.message


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
def test_reverse_lines_matches_forward_reading(block):
    rng = random.Random(block)
    lines = [bytes(rng.choice(b"ab \xff") for _ in range(rng.randint(0, 30))) for _ in range(200)]
    lines[-1] = b"last"  # a final empty line and a final newline look alike
    for data in (b"\n".join(lines) + b"\n", b"\n".join(lines)):
        got = list(logs.reverse_lines(lambda off, n, d=data: d[off : off + n], len(data), block))
        assert list(reversed(got)) == lines
    assert list(logs.reverse_lines(lambda off, n: b"", 0, block)) == []


# ------------------------------------------------ hostile input (issue 8.12): bounded whatever the log holds

LIMIT = logs.LINE_HEAD + logs.LINE_TAIL


def test_a_long_line_keeps_its_head_and_tail_around_the_marker():
    line = hl.line(RESTART, "ERROR", "odoo.sql_db", "bad query: INSERT ").encode() + b"x" * 1_000_000 + b" END"
    omitted = len(line) - 8192 - 2048
    assert logs.cap_line(line) == line[:8192] + f" … truncated: {omitted} bytes omitted … ".encode() + line[-2048:]
    assert logs.cap_line(line[:LIMIT]) == line[:LIMIT]
    assert logs.cap_line(line[: LIMIT + 1]).count(b" \xe2\x80\xa6 truncated: 1 bytes omitted \xe2\x80\xa6 ") == 1


def test_a_cut_never_splits_a_utf8_character():
    for text in ("é" * 20_000, "€" * 20_000, "𝄞" * 20_000, "a" + "€" * 20_000):
        capped = logs.cap_line(text.encode())
        head, _, tail = capped.decode("utf-8").partition(" … truncated: ")  # strict: raises on a split character
        assert head and set(head) <= set(text) and tail.endswith(text[-1] * 10)


@pytest.mark.parametrize("block", [1, 7, 4096, 1 << 20])
def test_long_lines_read_backwards_in_blocks_are_capped_as_whole_lines(block):
    rng = random.Random(block)
    sizes = [0, 5, LIMIT - 1, LIMIT, LIMIT + 1, 3 * LIMIT, 50_000, 12]
    alphabet = "ab é€\t"
    lines = ["".join(rng.choice(alphabet) for _ in range(n)).encode()[:n] for n in sizes]
    lines = [line.decode("utf-8", "ignore").encode() for line in lines]
    data = b"\n".join(lines) + b"\n"
    reader = logs.ReverseLines(lambda off, n: data[off : off + n], len(data), block)
    got, lengths = [], []
    for line in reader:
        got.append(line)
        lengths.append(reader.length)
    assert list(reversed(got)) == [logs.cap_line(line) for line in lines]
    assert list(reversed(lengths)) == [len(line) for line in lines]
    assert max(len(line) for line in got) < LIMIT + 100


def run_all_traced(spec):
    """run_all, and the peak of the memory Python allocated meanwhile."""
    tracemalloc.start()
    try:
        return run_all(spec), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_200_mb_in_one_line_is_read_in_flat_memory(tmp_path):
    path = hl.healthy_log(tmp_path / "odoo-server.log", T0, RESTART)
    with path.open("ab") as fh:
        fh.write(hl.line(RESTART + dt.timedelta(minutes=1), "ERROR", "odoo.sql_db", "bad query: ").encode())
        for _ in range(200):
            fh.write(b"A" * 1_048_576)
        fh.write(b"\n")
    (scan, r1, r2, r3), peak = run_all_traced(spec_for(path))
    assert peak < 8 * 1_048_576, peak  # a few 1 MiB blocks, never the line (838 MB before the fix)
    assert (r1.status, r2.status, r3.status) == ("FAIL", "PASS", "FAIL")
    header = len(hl.line(RESTART, "ERROR", "odoo.sql_db", "bad query: "))
    assert f"… truncated: {header + 200 * 1_048_576 - LIMIT} bytes omitted …" in r3.evidence
    # bytes read are counted at the lines' full length: from the first record before the window to the end
    stop = hl.healthy_log(tmp_path / "healthy.log", T0, RESTART).read_text().index(hl.module_error(T0 - dt.timedelta(days=1), 1001)[0])
    assert scan.bytes_read == path.stat().st_size - stop


def traceback_record(when: dt.datetime, frames: int, width: int) -> list[str]:
    frame = [f'  File "/opt/odoo/odoo/models.py", line {n}, in _call_{n} # {"x" * width}' for n in range(frames)]
    return [
        hl.line(when, "ERROR", "odoo.http", "Exception during request handling."),
        "Traceback (most recent call last):",
        *frame,
        "KeyError: 'x'",
    ]


@pytest.mark.parametrize("width", [10, 1000], ids=["many short lines", "long lines"])
def test_a_runaway_traceback_keeps_its_first_line_and_its_end(tmp_path, width):
    path = hl.healthy_log(tmp_path / "odoo-server.log", T0, RESTART)
    record = traceback_record(RESTART + dt.timedelta(minutes=1), 20_000, width)
    hl.write_log(path, record, "a")
    scan, _r1, _r2, r3 = run_all(spec_for(path))
    assert r3.status == "FAIL" and r3.message.startswith("1 error record(s), 1 with traceback; last: odoo.http")
    (rec,) = scan.errors
    first, marker, *kept = rec.continuation
    assert first == "Traceback (most recent call last):" and kept[-1] == "KeyError: 'x'"
    assert len(kept) <= logs.MAX_CONTINUATION and sum(len(k) + 1 for k in kept) <= logs.MAX_RECORD_BYTES
    assert kept == record[-len(kept) :]
    left_out = record[2 : len(record) - len(kept)]
    assert marker == f"… truncated: {sum(len(s) + 1 for s in left_out)} bytes omitted ({len(left_out)} lines) …"


def test_a_million_errors_are_all_counted_and_only_the_shown_ones_kept(tmp_path):
    path = hl.healthy_log(tmp_path / "odoo-server.log", T0, RESTART)
    start = RESTART + dt.timedelta(minutes=1)
    module_at = [n for n in range(20_000) if n % 300 == 7]
    with path.open("a") as fh:
        for n in range(20_000):
            when = start + dt.timedelta(milliseconds=n)
            fh.write("\n".join(hl.module_error(when) if n in module_at else hl.other_error(when)) + "\n")
    (scan, r1, r2, r3), peak = run_all_traced(spec_for(path))
    assert peak < 8 * 1_048_576, peak  # the 50 records shown, not 20 000 (21.5 MB before the fix)
    assert r1.message.startswith("ERRORS PRESENT: 20000 ERROR/CRITICAL record(s)") and r1.figures["errors"] == 20_000
    assert f"({20_000 - logs.MAX_SHOWN} earlier record(s) not shown)" in r1.evidence
    assert len(scan.errors) == logs.MAX_SHOWN and scan.errors[-1].when == hl.stamp(start + dt.timedelta(milliseconds=19_999))
    first = hl.stamp(start + dt.timedelta(milliseconds=module_at[0]))
    assert r2.message == f"MODULE ERRORS: {len(module_at)}, first at {first} odoo.http: Exception during request handling."
    assert r2.figures["module_errors"] == len(module_at)
    assert r3.message.startswith("20000 error record(s), 20000 with traceback; last: odoo.addons.mail.models.mail_mail")
    assert r3.evidence.endswith(f"({20_000 - logs.MAX_SHOWN} earlier record(s) not shown; see 6.1)")
    # 3.4 counts the module's errors since the restart the same way
    state = service.ServiceState("pidfile", "odoo", running=True, pid=1, started=RESTART, status="running")
    r34 = service.healthy(spec_for(path), state, T0, LOCAL)
    assert r34.status == "FAIL" and r34.figures["module_errors"] == len(module_at)
    assert (
        f"{len(module_at)} error(s) of {hl.MODULE} in the log since the restart (first: {first} Exception during request handling.)"
        in r34.message
    )
