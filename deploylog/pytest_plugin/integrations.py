"""The item and its evidence in the other reports a pytest run can write:
pytest-html (columns and an evidence extra), pytest-json-report (metadata),
pytest-metadata (the Environment table). Each is registered only when its
plugin is active; every text is redacted, as on the console.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import pytest

from deploylog import catalogue, waivers
from deploylog.log import meta as meta_mod
from deploylog.pytest_plugin.context import final, item_id_of, load_spec
from deploylog.redact import redact, redact_obj
from deploylog.result import WAIVED, CheckResult


def _phase_of(item_id: str | None) -> str:
    return catalogue.phase_of(item_id or "")


def evidence_text(result: CheckResult) -> str:
    waived = f"WAIVED ({waivers.text(result.waived_status, result.waiver)})" if result.status == WAIVED else ""
    return redact("\n".join(p for p in (waived, result.message, result.evidence, *result.queries) if p))


class HtmlReport:
    """pytest-html: "Log item" and "Phase" columns, the evidence as an extra of the test."""

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(1, '<th class="sortable" data-column-type="logitem">Log item</th>')
        cells.insert(2, '<th class="sortable" data-column-type="phase">Phase</th>')

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        item_id = getattr(report, "deploylog_item", None) or ""
        cells.insert(1, f'<td class="col-logitem">{escape(item_id)}</td>')
        cells.insert(2, f'<td class="col-phase">{escape(_phase_of(item_id))}</td>')


def add_html_extra(config: pytest.Config, report: pytest.TestReport, result: CheckResult) -> None:
    """Attach the result's evidence to the test's last report (pytest-html gathers every report's extras)."""
    if not config.pluginmanager.hasplugin("html"):
        return
    from pytest_html import extras

    extra = extras.text(evidence_text(result), name=f"Evidence {result.item}")
    report.extras = [*getattr(report, "extras", []), extra]  # type: ignore[attr-defined]


class JsonReport:
    """pytest-json-report: each log test's item id, status and evidence in its metadata."""

    def pytest_json_runtest_metadata(self, item: pytest.Item, call: pytest.CallInfo[None]) -> dict[str, Any]:
        item_id = item_id_of(item)
        if item_id is None:
            return {}
        data: dict[str, Any] = {"item": item_id, "phase": _phase_of(item_id)}
        result = final(item)
        if result is not None:
            data.update(
                status=result.status,
                message=redact(result.message),
                evidence=redact(result.evidence),
                queries=[redact(q) for q in result.queries],
                host=result.host,
            )
            if result.status == WAIVED:
                data.update(waived_status=result.waived_status, waiver=redact_obj(result.waiver))
        return data


class Environment:
    """pytest-metadata (pytest-html's Environment table): the deployment, credentials redacted."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from pytest_metadata.plugin import metadata_key

        data = session.config.stash.get(metadata_key, None)
        if data is None:
            return
        loaded = load_spec(session.config)
        if isinstance(loaded, Exception):
            data["Configuration error"] = redact(str(loaded))
            return
        meta = meta_mod.from_spec(loaded)
        data.update(
            {
                "Deployment": meta.deployment_id,
                "Module": f"{meta.module} {meta.expected_version}",
                **({"Modules": meta.modules} if meta.modules else {}),
                "Database": meta.database,
                "DSN": meta.dsn or "(PG* environment / ~/.pgpass)",
                "Report dir": str(Path(meta.report_dir)),
            }
        )
        data.update(redact_obj(dict(data)))


def register(config: pytest.Config) -> None:
    manager = config.pluginmanager
    if manager.hasplugin("html") and hasattr(config.hook, "pytest_html_results_table_row"):
        manager.register(HtmlReport(), "deploylog-html")
    if manager.hasplugin("pytest_jsonreport") and hasattr(config.hook, "pytest_json_runtest_metadata"):
        manager.register(JsonReport(), "deploylog-json-report")
    if manager.hasplugin("metadata"):
        manager.register(Environment(), "deploylog-metadata")
