"""[[checks]] of deploy.toml: an item of the deployment's own, decided by one read-only query and an expectation.

Each check runs in the session's snapshot as a figure of its own (its own
savepoint: a query that fails is ERROR naming the check and the database's one
line, and the other items go on). Its evidence is the value (or the rows) and
the SQL as it ran, parameters inlined by psycopg. A check that compares with
`baseline` reads the value phase 0 recorded (`values_for_baseline`, stored in
the baseline's `checks`).
"""

from __future__ import annotations

from typing import Any

from deploylog import catalogue, expectation
from deploylog.db import Snapshot, on_snapshot
from deploylog.errors import DeploylogError
from deploylog.result import CheckResult, errored, verdict
from deploylog.spec import Check, Spec, query_parameters

ORIGIN = "deploy.toml [[checks]]"
MAX_ROWS_SHOWN = 50


def definition(check: Check) -> catalogue.Item:
    """The log item a check decides (validated with the spec)."""
    return catalogue.define(check.item, check.title, check.expected_text, check.severity, check.aspect, ORIGIN)


def params_of(check: Check, spec: Spec) -> dict[str, Any] | None:
    """The values of the query's named parameters (None when it names none: a literal % then stays as written)."""
    used = query_parameters(check.sql)
    if not used:
        return None
    available = {**spec.query_params, **check.params}
    return {name: available[name] for name in used}


def _figure_name(check: Check) -> str:
    return f"check {check.item} ({check.title})"


def statement(snap: Snapshot, check: Check, spec: Spec) -> str:
    """The check's SQL as the server runs it, parameters inlined by psycopg (the log's "Query")."""
    params = params_of(check, spec)
    return (snap.shown(check.sql, params) if params is not None else check.sql).strip()


def measure(snap: Snapshot, check: Check, spec: Spec) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows), read once per snapshot; DeploylogError naming the check when the query fails."""
    params = params_of(check, spec)
    columns, rows = snap.memo(_figure_name(check), lambda: snap.table(check.sql, params))
    if not columns:
        raise DeploylogError(f"{_figure_name(check)}: the statement returns no rows (a check runs a SELECT)")
    return columns, rows


def _one_value(check: Check, columns: list[str], rows: list[tuple[Any, ...]]) -> Any:
    if len(rows) != 1 or len(columns) != 1:
        raise DeploylogError(
            f'{_figure_name(check)}: the query returned {len(rows)} row(s) of {len(columns)} column(s); returns = "value" '
            'needs exactly one row of one column (use returns = "rows" to compare the row count)'
        )
    return rows[0][0]


def measured_value(snap: Snapshot, check: Check, spec: Spec) -> Any:
    """What the expectation compares: the one value, or the row count (returns = "rows")."""
    columns, rows = measure(snap, check, spec)
    return len(rows) if check.returns == "rows" else _one_value(check, columns, rows)


def values_for_baseline(snap: Snapshot, spec: Spec) -> dict[str, Any]:
    """Phase 0: the value of every check that compares with `baseline`, for the baseline's `checks`."""
    values = {}
    for check in spec.checks:
        if not check.expectation.uses_baseline:
            continue
        try:
            values[check.item] = expectation.plain(measured_value(snap, check, spec))
        except DeploylogError as exc:
            raise DeploylogError(f"the baseline value of {_figure_name(check)} could not be read: {exc}") from None
    return values


def _rows_table(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    shown = [[expectation.shown(v) for v in row] for row in rows[:MAX_ROWS_SHOWN]]
    widths = [max([len(c), *(len(r[n]) for r in shown)]) for n, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in shown]
    if len(rows) > MAX_ROWS_SHOWN:
        lines.append(f"... {len(rows) - MAX_ROWS_SHOWN} more row(s)")
    return "\n".join(lines)


def baseline_value(check: Check, recorded: dict[str, Any] | None) -> Any:
    """The value phase 0 recorded for a check; DeploylogError saying how to get one when there is none."""
    if recorded is None:
        raise DeploylogError(f"{_figure_name(check)} compares with the baseline, but no baseline was given")
    checks: dict[str, Any] = recorded.get("checks") or {}
    if check.item not in checks:
        raise DeploylogError(
            f"the baseline holds no value for {_figure_name(check)}: the check was declared after phase 0; "
            "before deploying, re-run phase 0 with --recapture-baseline"
        )
    return checks[check.item]


@on_snapshot
def run(snap: Snapshot, check: Check, spec: Spec, baseline: dict[str, Any] | None = None) -> CheckResult:
    """The check's result: PASS when its expectation holds, FAIL otherwise, ERROR when the query cannot answer.

    baseline: the stored baseline's data (needed only by a check that compares with `baseline`).
    """
    expected = check.expectation
    ran = statement(snap, check, spec)
    try:
        columns, rows = measure(snap, check, spec)
        value = len(rows) if check.returns == "rows" else _one_value(check, columns, rows)
        before = baseline_value(check, baseline) if expected.uses_baseline else None
    except DeploylogError as exc:
        return errored(check.item, str(exc), queries=(ran,))
    ok, why = expected.holds(value, before)
    subject = f"{len(rows)} row(s)" if check.returns == "rows" else f"returned {expectation.shown(value)}"
    against = f" ({expectation.shown(before)} at phase 0)" if expected.uses_baseline else ""
    message = f"{subject}: {expected.text}{against} holds" if ok else f"{subject}, expected {expected.text}{against}"
    if why:
        message += f": {why}"
    lines = [f"expected: {check.expected_text}{against}"]
    if check.returns == "rows":
        lines += [f"rows: {len(rows)}", "", _rows_table(columns, rows)]
    else:
        lines.insert(0, f"value: {expectation.shown(value)}")
    figures: dict[str, Any] = {"rows": len(rows)} if check.returns == "rows" else {"value": expectation.plain(value)}
    if expected.uses_baseline:
        figures["baseline"] = before
    return verdict(check.item, ok, message, evidence="\n".join(lines), queries=(ran,), figures=figures)
