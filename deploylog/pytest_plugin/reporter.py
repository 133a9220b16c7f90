"""The execution log's side of a pytest run: every log test's result into the deployment's state,
the log rendered, the console ended with the verdict.

Registered on the process that owns the run (never on a pytest-xdist worker:
the workers' reports reach the controller, which records each result once).
A run whose results could not be recorded exits non-zero.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from deploylog import checks, protect, runbook
from deploylog.errors import DeploylogError
from deploylog.log import state
from deploylog.pytest_plugin import context, outcome, xdist
from deploylog.redact import redact
from deploylog.spec import Spec

PLUGIN_NAME = "deploylog-execution-log"
VERDICT_COLOURS = {"GO": {"green": True}, "NO-GO": {"yellow": True}, "ROLLBACK": {"red": True}}
# pytest's exit code when the run's results reached no log (tests may all have passed).
NOT_RECORDED = int(pytest.ExitCode.INTERNAL_ERROR)


class ExecutionLog:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = context.session_start(config)
        self.entries: list[dict[str, Any]] = []
        self.unfinished: dict[str, str] = {}  # nodeid -> item id: started, no result yet
        self.snapshots: set[str] = set()  # which database snapshot each process read (xdist.py)
        self.odoo: set[str] = set()  # the Odoo version and layout those snapshots found
        self.summary = ""
        self.verdict: tuple[str, dict[str, bool]] | None = None
        self.failure = ""
        self.warning = ""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        item_id = getattr(report, "deploylog_item", None)
        if not item_id:
            return
        self.unfinished[report.nodeid] = item_id
        result = getattr(report, "deploylog_result", None)
        seen = getattr(report, "deploylog_snapshot", None)
        if seen:
            self.snapshots.add(seen)
        if getattr(report, "deploylog_odoo", None):
            self.odoo.add(report.deploylog_odoo)
        if report.when == "teardown" and result is not None:
            self.unfinished.pop(report.nodeid, None)
            self.entries.append({**result, "nodeid": report.nodeid})

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Iterator[None]:
        """Write the log, let pytest print its summary, then end the console with the verdict."""
        for nodeid, item_id in self.unfinished.items():
            self.entries.append({**outcome.interrupted(item_id, nodeid).to_dict(), "nodeid": nodeid})
        self.unfinished.clear()
        if self.entries:  # --collect-only, or stopped before any log test ran: nothing to add
            self.write(int(exitstatus))
        if self.failure:
            session.exitstatus = NOT_RECORDED
        result = yield
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and self.warning:
            reporter.write_line(redact(self.warning), yellow=True, bold=True)
        if reporter is not None and self.verdict:
            text, markup = self.verdict
            reporter.write_line(text, **markup)
        if reporter is not None and self.failure:  # the last line: what an operator must look at
            reporter.write_line(self.failure, red=True, bold=True)
        return result

    def write(self, exitstatus: int) -> None:
        """Append this run to the state and render the log; any failure ends in one line (NOT RECORDED, NOT RENDERED), exit 3."""
        from deploylog.log import actions  # the renderers and Jinja2: only a run that writes the log needs them (start-up)

        try:
            spec = context.spec(self.config)
            target = actions.target(spec)
            run = {
                "type": "run",
                "started": self.started.isoformat(timespec="milliseconds"),
                "finished": state.now_iso(),
                "recorded": state.now_iso(),
                "command": " ".join(["pytest", *self.config.invocation_params.args]),
                "hostname": socket.gethostname(),
                "exit_status": exitstatus,
                "snapshots": sorted({*self.snapshots, *filter(None, [xdist.snapshot_note(self.config)])}),
                "odoo": sorted({*self.odoo, *filter(None, [xdist.odoo_note(self.config)])}),
                "results": self.entries,
                **self.own_items(spec),
            }
            outside = runbook.not_in_runbook(spec)
            if outside:  # the built-in items this runbook does not hold: in the state, so in the log's digest
                run["not_in_runbook"] = outside
            if spec.waivers.file:  # the waivers this run used: in the state, so in the log's digest
                run["waivers"] = context.waivers(self.config).record()
            view, written = actions.append(target, run, set_aside_damaged=True)
        except actions.LogNotRendered as exc:
            self.fail(f"deploylog: NOT RENDERED — the results of this run are {exc}")
            return
        except Exception as exc:  # whatever stopped the write, the run must not end green with no log
            reason = str(exc) if isinstance(exc, DeploylogError | OSError) else f"{type(exc).__name__}: {exc}"
            self.fail(f"deploylog: NOT RECORDED — the results of this run reached no execution log: {reason}")
            return
        failed = sum(1 for e in self.entries if e["status"] in ("FAIL", "ERROR"))
        final = "" if view.overall.final else ", provisional"
        signed = view.signatures[-1]
        self.summary = (
            f"deploylog: execution log {written['execution-log.html']} ({len(self.entries)} results this run, "
            f"{failed} failed; overall {view.overall.status}{final}; digest {view.digest[:16]}…"
            + (f"; signed by {signed.principal} ({signed.fingerprint})" if signed.signed else "")
            + ")"
        )
        if signed.unsigned:  # [signing] required = false: recorded, but said loudly
            self.warning = f"deploylog: UNSIGNED — this run is recorded without a signature: {signed.unsigned}"
        self.verdict = (view.verdict.line(), {"bold": True, **VERDICT_COLOURS.get(view.verdict.word, {})})
        moved = view.set_aside_by(view.runs[-1].seq)
        if moved is not None:
            self.failure = (
                f"deploylog: STATE SET ASIDE — the state was damaged ({moved['reason']}) and moved to {moved['path']}; "
                "this run starts a new log WITHOUT the earlier results: look at the moved file"
            )

    def own_items(self, spec: Spec) -> dict[str, Any]:
        """The run's `items`: the deployment's own items (tests', [[checks]], [[protect]]), for a log rendered later."""
        own = {**context.own_items(self.config), **{c.item: checks.definition(c) for c in spec.checks}, **protect.definitions(spec)}
        return {"items": [own[k].to_dict() for k in sorted(own)]} if own else {}

    def fail(self, line: str) -> None:
        self.failure = redact(line)
        self.verdict = None

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.entries:
            for line in context.waivers(self.config).expired_lines():
                terminalreporter.write_line(line, yellow=True)
        if self.summary:
            terminalreporter.write_line(self.summary)


def register(config: pytest.Config) -> None:
    if not context.is_worker(config) and not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(ExecutionLog(config), PLUGIN_NAME)
