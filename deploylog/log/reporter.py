"""pytest hooks of the execution log: collect every item outcome into the
deployment's state, render the log after the run, end the console with the
verdict. Hooks only; the work is done in the plain modules of deploylog.log.

Inert in a session that collected no log item (the project's self-tests).
The pytest-html, pytest-json-report and pytest-metadata hooks are registered
only when those plugins are active.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

import pytest

from deploylog import catalogue, context
from deploylog.log import meta as meta_mod
from deploylog.log import publish, state
from deploylog.log.collect import Accumulator
from deploylog.log.redact import redact, redact_obj
from deploylog.result import ERROR, FAIL

PLUGIN_NAME = "deploylog-execution-log"
VERDICT_COLOURS = {"GO": {"green": True}, "NO-GO": {"yellow": True}, "ROLLBACK": {"red": True}}


def _meta(config: pytest.Config) -> meta_mod.Meta:
    loaded = context.load_spec(config)
    if isinstance(loaded, Exception):
        report_dir = config.getoption("report_dir") or "reports"
        return meta_mod.from_error(loaded, config.invocation_params.dir / report_dir)
    return meta_mod.from_spec(loaded)


def redact_longrepr(report: pytest.TestReport) -> None:
    """Replace a report's failure text by its redacted form when it holds something credential-like."""
    longrepr = report.longrepr
    if longrepr is None:
        return
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, lineno, reason = longrepr
        report.longrepr = (path, lineno, redact(str(reason)))
        return
    text = str(longrepr)
    masked = redact(text)
    if masked != text:
        report.longrepr = masked


class ExecutionLog:
    """Registered once the session is known to hold log items."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = context.session_start(config).timestamp()
        self.tests: dict[str, Accumulator] = {}
        self.entries: list[dict[str, Any]] = []
        self.summary = ""
        self.verdict: tuple[str, dict[str, bool]] | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        """A log test's failure text goes to the console, JUnit XML and pytest-html: mask credentials in it."""
        report = yield
        if context.item_id_of(item) is not None:
            redact_longrepr(report)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        item_id = getattr(report, "deploylog_item", None)
        if not item_id:
            return
        acc = self.tests.setdefault(report.nodeid, Accumulator(item_id, report.nodeid))
        acc.add(report)
        if report.when == "teardown":
            self.entries.append(self.tests.pop(report.nodeid).entry())

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Iterator[None]:
        """Write the log, let pytest print its summary, then end the console with the verdict."""
        self.write(int(exitstatus))
        result = yield
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and self.verdict:
            text, markup = self.verdict
            reporter.write_line(text, **markup)
        return result

    def write(self, exitstatus: int) -> None:
        self.entries += [acc.entry() for acc in self.tests.values()]  # interrupted tests
        self.tests.clear()
        if not self.entries:  # --collect-only, or stopped before any log test ran: nothing to add
            return
        try:
            meta = _meta(self.config)
            run = {
                "type": "run",
                "started": state.iso(self.started),
                "finished": state.now_iso(),
                "recorded": state.now_iso(),
                "command": redact(" ".join(["pytest", *self.config.invocation_params.args])),
                "hostname": socket.gethostname(),
                "exit_status": exitstatus,
                "results": self.entries,
            }
            path = state.state_path(meta.report_dir, meta.deployment_id)
            new = state.append_event(path, meta.deployment_id, meta.as_dict(), run)
            view, written = publish.publish(new, meta, meta.report_dir)
        except Exception as exc:  # the log must never turn a run into a traceback
            self.verdict = (f"deploylog: NO-GO — could not write the execution log: {redact(str(exc))}", {"red": True})
            return
        failed = sum(1 for e in self.entries if e["status"] in (FAIL, ERROR))
        final = "" if view.overall.final else ", provisional"
        self.summary = (
            f"deploylog: execution log {written['execution-log.html']} ({len(self.entries)} results this run, "
            f"{failed} failed; overall {view.overall.status}{final}; digest {view.digest[:16]}…)"
        )
        self.verdict = (view.verdict.line(), {"bold": True, **VERDICT_COLOURS.get(view.verdict.word, {})})

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.summary:
            terminalreporter.write_line(self.summary)


def pytest_collection_finish(session: pytest.Session) -> None:
    has_log_items = any(context.item_id_of(node) for node in session.items)
    if has_log_items and not session.config.pluginmanager.has_plugin(PLUGIN_NAME):
        session.config.pluginmanager.register(ExecutionLog(session.config), PLUGIN_NAME)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    manager = config.pluginmanager
    if manager.hasplugin("html") and hasattr(config.hook, "pytest_html_results_table_row"):
        manager.register(HtmlReport(), "deploylog-html")
    if manager.hasplugin("pytest_jsonreport") and hasattr(config.hook, "pytest_json_runtest_metadata"):
        manager.register(JsonReport(), "deploylog-json-report")
    if manager.hasplugin("metadata"):
        manager.register(Environment(), "deploylog-metadata")


def _phase_of(item_id: str | None) -> str:
    return catalogue.ITEMS[item_id].phase if item_id in catalogue.ITEMS else ""


class HtmlReport:
    """pytest-html: "Log item" and "Phase" columns, the evidence as an extra."""

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(1, '<th class="sortable" data-column-type="logitem">Log item</th>')
        cells.insert(2, '<th class="sortable" data-column-type="phase">Phase</th>')

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        item_id = getattr(report, "deploylog_item", None) or ""
        cells.insert(1, f'<td class="col-logitem">{escape(item_id)}</td>')
        cells.insert(2, f'<td class="col-phase">{escape(_phase_of(item_id))}</td>')

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        report = yield
        recorded = context.recorded(item)
        if recorded is not None and (report.when == "call" or (report.when == "setup" and report.skipped)):
            from pytest_html import extras

            text = redact("\n".join(p for p in (recorded.message, recorded.evidence, *recorded.queries) if p))
            report.extras = [*getattr(report, "extras", []), extras.text(text, name=f"Evidence {recorded.item}")]
        return report


class JsonReport:
    """pytest-json-report: each log test's item id, status and evidence in its metadata."""

    def pytest_json_runtest_metadata(self, item: pytest.Item, call: pytest.CallInfo[None]) -> dict[str, Any]:
        item_id = context.item_id_of(item)
        if item_id is None:
            return {}
        data: dict[str, Any] = {"item": item_id, "phase": _phase_of(item_id)}
        recorded = context.recorded(item)
        if recorded is not None:
            data.update(
                status=recorded.status,
                message=redact(recorded.message),
                evidence=redact(recorded.evidence),
                queries=[redact(q) for q in recorded.queries],
                host=recorded.host,
            )
        return data


class Environment:
    """pytest-metadata (pytest-html's Environment table): the deployment, credentials redacted."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from pytest_metadata.plugin import metadata_key

        data = session.config.stash.get(metadata_key, None)
        if data is None:
            return
        meta = _meta(session.config)
        data.update(
            {
                "Deployment": meta.deployment_id,
                "Module": f"{meta.module} {meta.expected_version}",
                "Database": meta.database,
                "DSN": meta.dsn or "(PG* environment / ~/.pgpass)",
                "Report dir": str(Path(meta.report_dir)),
            }
        )
        if meta.config_error:
            data["Configuration error"] = meta.config_error
        data.update(redact_obj(dict(data)))
