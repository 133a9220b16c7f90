"""Phase 3: the service restart (3.1 stopped, 3.2 caches, 3.3 started, 3.4 healthy).

"Restarted" is decided from when the running instance started, compared with
when phase 0 started (from the baseline): a service that has been running
since last week was not restarted, whatever its status says. Managers:
  systemd  systemctl show (ActiveState, MainPID, ActiveEnterTimestamp, ...)
  pidfile  the pid in service.pidfile, alive, its start time from /proc
  process  the one master process whose command line names service.process_name
           (several instances on one host: ambiguous, an error naming them, never a guess)
  none     phase 3 is not applicable (said so in the log)
"""

from __future__ import annotations

import datetime as dt
import posixpath
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deploylog.hostchecks import hostio, logs
from deploylog.result import CheckResult, failed, not_applicable, passed, verdict
from deploylog.spec import Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.host import Host

SYSTEMD_PROPS = ("ActiveState", "SubState", "MainPID", "ActiveEnterTimestamp", "InactiveEnterTimestamp", "ExecMainStartTimestamp")


@dataclass
class ServiceState:
    manager: str
    name: str
    running: bool = False
    pid: int | None = None
    started: dt.datetime | None = None  # start of the running instance (aware UTC)
    stopped: dt.datetime | None = None  # systemd: when it last became inactive
    status: str = ""  # what the log pastes (systemctl status / ps line)
    error: str = ""  # the state could not be read
    queries: list[str] = field(default_factory=list)

    @property
    def started_text(self) -> str:
        return self.started.isoformat(timespec="seconds") if self.started else "-"


# ------------------------------------------------------------ start times


def parse_proc_start(proc_stat: str, pid_stat: str, clk_tck: int) -> dt.datetime:
    """Start time of a process from /proc/stat (btime) and /proc/<pid>/stat (field 22, ticks since boot)."""
    btime = next(int(line.split()[1]) for line in proc_stat.splitlines() if line.startswith("btime "))
    # comm (field 2) may hold spaces and parentheses: fields resume after the last ')'
    fields = pid_stat[pid_stat.rindex(")") + 2 :].split()
    ticks = int(fields[19])
    return dt.datetime.fromtimestamp(btime + ticks / clk_tck, dt.UTC)


# one command: the host's clock tick, its boot time and the process's start ticks ($1 is an argument, not shell text)
_PROC_START = 'getconf CLK_TCK && cat /proc/stat "/proc/$1/stat"'


def process_start(host: Host, pid: int) -> dt.datetime | None:
    """When a process started, as the host's kernel says (clock-tick precision); None when it is gone."""
    out = hostio.run(host, ["sh", "-c", _PROC_START, "sh", str(pid)])
    lines = out.stdout.splitlines()
    if out.rc != 0 or len(lines) < 3:
        return None
    try:
        return parse_proc_start("\n".join(lines[1:-1]), lines[-1], int(lines[0].strip() or 100))
    except (ValueError, StopIteration):
        return None


def _cmdline(host: Host, pid: int) -> str:
    try:
        raw = hostio.read_bytes(host, f"/proc/{pid}/cmdline")
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def _names(args: str, process_name: str) -> bool:
    """A command line runs process_name when one of its words is it or ends with /process_name."""
    return any(word == process_name or word.endswith("/" + process_name) for word in args.split())


# -------------------------------------------------------------- managers


def parse_systemd_show(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def parse_systemd_time(value: str) -> dt.datetime | None:
    """'@1766398503' (--timestamp=unix) or 'Mon 2025-12-22 10:15:03 UTC'; None for 'n/a' / empty."""
    value = value.strip()
    if not value or value == "n/a" or value == "0":
        return None
    if value.startswith("@"):
        return dt.datetime.fromtimestamp(float(value[1:]), dt.UTC)
    parts = value.split()
    if len(parts) >= 3 and parts[-1] == "UTC":
        return dt.datetime.strptime(" ".join(parts[1:3]), "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    return None


def _systemd(spec: Spec, host: Host) -> ServiceState:
    name = spec.service.name
    state = ServiceState("systemd", name)
    argv = ["systemctl", "show", name, "--timestamp=unix", *[f"--property={p}" for p in SYSTEMD_PROPS]]
    state.queries.append(hostio.shown(argv))
    out = hostio.run(host, argv)
    if out.rc != 0 and "timestamp" in out.stderr:  # systemd < 251 has no --timestamp=unix
        argv.remove("--timestamp=unix")
        out = hostio.run(host, argv)
    if out.rc != 0:
        state.error = f"systemctl show {name}: {(out.stderr.strip().splitlines() or ['failed'])[0]}"
        return state
    props = parse_systemd_show(out.stdout)
    state.running = props.get("ActiveState") == "active" and props.get("SubState") == "running"
    state.pid = int(props.get("MainPID") or 0) or None
    state.started = parse_systemd_time(props.get("ExecMainStartTimestamp", "")) or parse_systemd_time(
        props.get("ActiveEnterTimestamp", "")
    )
    state.stopped = parse_systemd_time(props.get("InactiveEnterTimestamp", ""))
    status_argv = ["systemctl", "status", "--no-pager", "--lines=0", name]
    state.queries.append(hostio.shown(status_argv))
    state.status = hostio.run(host, status_argv).stdout.rstrip() or out.stdout.rstrip()
    return state


def _pidfile(spec: Spec, host: Host) -> ServiceState:
    path = spec.service.pidfile
    state = ServiceState("pidfile", path)
    state.queries.append(f"cat {path}; cat /proc/<pid>/stat /proc/<pid>/cmdline")
    if not path:
        state.error = "service.manager = pidfile but service.pidfile is not set"
        return state
    try:
        text = hostio.read_bytes(host, path).decode("ascii", "replace").strip()
    except OSError:
        state.status = f"pidfile {path}: absent (service stopped)"
        return state
    if not text.isdigit():
        state.error = f"pidfile {path} does not hold a pid: {text[:40]!r}"
        return state
    pid = int(text)
    cmdline = _cmdline(host, pid)
    if not cmdline:
        state.status = f"pidfile {path}: pid {pid}, no such process (stale pidfile)"
        return state
    if spec.service.process_name and not _names(cmdline, spec.service.process_name):
        state.status = f"pidfile {path}: pid {pid} is {cmdline[:120]!r}, not {spec.service.process_name} (stale pidfile)"
        return state
    state.running, state.pid = True, pid
    state.started = process_start(host, pid)
    state.status = f"pid {pid} (from {path}) running since {state.started_text}: {cmdline[:200]}"
    return state


def _process(spec: Spec, host: Host) -> ServiceState:
    wanted = spec.service.process_name
    state = ServiceState("process", wanted)
    argv = ["ps", "-ww", "-eo", "pid=,ppid=,args="]  # -ww: never cut the command line
    state.queries.append(hostio.shown(argv))
    out = hostio.run(host, argv)
    if out.rc != 0:
        state.error = f"ps failed: {out.stderr.strip()}"
        return state
    procs = {}
    for line in out.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and _names(parts[2], wanted):
            procs[int(parts[0])] = (int(parts[1]), parts[2])
    # the master: a matching process whose parent is not itself a match (workers are its children)
    masters = sorted(pid for pid, (ppid, _) in procs.items() if ppid not in procs)
    if not masters:
        state.status = f"no process named {wanted}"
        return state
    starts = {pid: process_start(host, pid) for pid in masters}
    state.status = "\n".join(
        f"pid {p} running since {_when(starts.get(p)) if p in starts else None}: {procs[p][1][:200]}" for p in sorted(procs)
    )
    if len(masters) > 1:
        # several Odoo instances on this host: picking one would judge an instance that may not be this deployment's
        state.error = (
            f"{len(masters)} separate processes named {wanted} (pids {', '.join(map(str, masters))}): set [service] "
            'process_name to this instance\'s full path of odoo-bin, or use manager = "pidfile"'
        )
        return state
    pid = masters[0]
    state.running, state.pid, state.started = True, pid, starts[pid]
    return state


def read_state(spec: Spec, host: Host) -> ServiceState:
    """The Odoo service as its manager on the host reports it (one observation shared by 3.1-3.4)."""
    manager = spec.service.manager
    if manager == "systemd":
        return _systemd(spec, host)
    if manager == "pidfile":
        return _pidfile(spec, host)
    if manager == "process":
        return _process(spec, host)
    return ServiceState("none", "", error="service.manager = none")


# ----------------------------------------------------------------- items


def _na(item: str, state: ServiceState, host: Host) -> CheckResult | None:
    """NA when the service is not managed here; FAIL when its state could not be read."""
    if state.manager == "none":
        return not_applicable(item, "service.manager = none: the service is not managed on this host", host=hostio.host_name(host))
    if state.error:
        return failed(item, f"cannot read the service state: {state.error}", queries=state.queries, host=hostio.host_name(host))
    return None


def _when(value: dt.datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def stopped(spec: Spec, state: ServiceState, started_at: dt.datetime | None, host: Host) -> CheckResult:
    """3.1: the pre-deployment instance was stopped: the running one started after phase 0 started."""
    bad = _na("3.1", state, host)
    if bad:
        return bad
    name = hostio.host_name(host)
    evidence = "\n".join(
        [
            f"Service: {state.manager} {state.name}",
            f"Phase 0 started: {_when(started_at)}",
            f"Running instance started: {state.started_text}",
            *([f"Last stopped: {_when(state.stopped)}"] if state.stopped else []),
            "",
            state.status,
        ]
    )
    kw = {"evidence": evidence, "queries": state.queries, "host": name, "figures": {"started": state.started_text, "pid": state.pid}}
    if started_at is None:
        return failed("3.1", "no phase-0 start time in the baseline to compare with", **kw)
    if not state.running:
        if state.stopped and state.stopped < started_at:
            return failed("3.1", f"stopped at {_when(state.stopped)}, before phase 0: not this deployment's stop", **kw)
        return passed("3.1", "STOPPED: the service is not running now (see 3.3)", **kw)
    if state.started is None:
        return failed("3.1", f"cannot tell when pid {state.pid} started", **kw)
    if state.started <= started_at:
        return failed(
            "3.1",
            f"FAILED TO STOP: service not restarted - running since {state.started_text}, "
            f"before phase 0 started at {_when(started_at)}",
            **kw,
        )
    return passed(
        "3.1", f"STOPPED and restarted: running instance started {state.started_text}, after phase 0 ({_when(started_at)})", **kw
    )


def caches_cleared(spec: Spec, host: Host) -> CheckResult:
    """3.2: every path in service.cache_dirs is gone or empty."""
    name = hostio.host_name(host)
    if spec.service.manager == "none" and not spec.service.cache_dirs:
        return not_applicable("3.2", "service.manager = none and no cache_dirs configured", host=name)
    if not spec.service.cache_dirs:
        return not_applicable("3.2", "no service.cache_dirs configured: nothing to clear", host=name)
    lines, left = [], []
    for path in spec.service.cache_dirs:
        st = hostio.stat(host, path)
        if not st.exists:
            lines.append(f"☑ {path}: gone")
        elif st.is_dir and not (entries := hostio.listdir(host, path)):
            lines.append(f"☑ {path}: empty")
        else:
            entries = hostio.listdir(host, path) if st.is_dir else [posixpath.basename(path)]
            shown = ", ".join(entries[:10]) + (f" ... ({len(entries)} entries)" if len(entries) > 10 else "")
            lines.append(f"☐ {path}: LEFT BEHIND ({shown})")
            left.append(path)
    return verdict(
        "3.2",
        not left,
        f"FAILED: cache not cleared: {', '.join(left)}" if left else f"CACHE CLEARED: {len(lines)} path(s) gone or empty",
        evidence="Commands executed (checked afterwards):\n" + "\n".join(lines),
        queries=[f"ls -A {p}" for p in spec.service.cache_dirs],
        host=name,
        figures={"left": left},
    )


def started(spec: Spec, state: ServiceState, host: Host) -> CheckResult:
    """3.3: the service is active (running)."""
    bad = _na("3.3", state, host)
    if bad:
        return bad
    kw = {
        "evidence": f"Expected: active (running)\n\n{state.status}",
        "queries": state.queries,
        "host": hostio.host_name(host),
        "figures": {"pid": state.pid, "started": state.started_text},
    }
    if not state.running:
        return failed("3.3", f"FAILED TO START: {state.manager} {state.name} is not running ({state.status})", **kw)
    return passed("3.3", f"STARTED: active (running), pid {state.pid}, since {state.started_text}", **kw)


def http_get(host: Host, url: str, timeout: int) -> tuple[int | None, str]:
    """(status, start of the body or the error) of a GET from the host itself (Odoo usually listens on its loopback)."""
    out = hostio.run(host, ["curl", "-sS", "-L", "--max-time", str(timeout), "-w", "\n%{http_code}", url])
    body, _, code = out.stdout.rpartition("\n")
    if code.isdigit() and code != "000":
        return int(code), body[:200]
    return None, hostio.last_error(out, "no answer")


def _probe_urls(health_url: str) -> list[str]:
    urls = [health_url]
    parsed = urllib.parse.urlsplit(health_url)
    if parsed.path.rstrip("/") == "/web/health":  # Odoo: also the login page, which needs the registry loaded
        urls.append(urllib.parse.urlunsplit(parsed._replace(path="/web/login", query="")))
    return urls


def healthy(spec: Spec, state: ServiceState, started_at: dt.datetime | None, host: Host) -> CheckResult:
    """3.4: health URL (and /web/login) answer 200; no error of the module in the log since the restart."""
    bad = _na("3.4", state, host)
    if bad:
        return bad
    name = hostio.host_name(host)
    problems, lines, queries = [], ["Service Status:", state.status, ""], list(state.queries)
    if not spec.service.health_url:
        problems.append("service.health_url is not set: health cannot be shown")
    for url in _probe_urls(spec.service.health_url) if spec.service.health_url else []:
        code, detail = http_get(host, url, spec.service.http_timeout_s)
        queries.append(f"GET {url}")
        lines.append(f"GET {url} -> {code if code is not None else 'NO ANSWER'} {detail[:80]}".rstrip())
        if code != 200:
            problems.append(f"{url} answered {code if code is not None else f'nothing ({detail})'}")
    since = state.started or started_at
    scan, found = logs.since_restart(spec, since, host)
    lines.append("")
    if scan is None:
        lines.append("Log: paths.log_file not set: log not checked")
    elif scan.error:
        problems.append(scan.error)
    else:
        lines.append(f"Recent Errors in Logs ({spec.deployment.module}, {scan.window}):")
        lines += [f"  {r.header}" for r in found.last[-20:]] or ["  NONE"]
        if found.first is not None:
            problems.append(
                f"{found.count} error(s) of {spec.deployment.module} in the log since the restart "
                f"(first: {found.first.when} {found.first.message[:80]})"
            )
        lines += ["", "Last 20 log lines:", *logs.tail(host, spec.paths.log_file, 20)]
        queries.append(f"tail -20 {spec.paths.log_file}")
    kw = {"evidence": "\n".join(lines), "queries": queries, "host": name, "figures": {"module_errors": found.count}}
    if not state.running:
        problems.insert(0, "service is not running")
    if problems:
        return failed("3.4", "ERRORS DETECTED: " + "; ".join(problems), **kw)
    return passed("3.4", "SERVICE HEALTHY: health URL answers 200, no module errors since the restart", **kw)
