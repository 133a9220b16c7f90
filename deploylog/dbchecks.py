"""Database items of the log (P.6, 0.1-0.4, 4.1, 4.5-4.7, 5.1-5.4): figure -> verdict.

Each function reads figures through the session Snapshot and returns a
CheckResult whose evidence is what the template asks to paste, plus the SQL
that actually ran.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from testinfra.host import Host

from deploylog import baseline as baseline_mod
from deploylog import fingerprint, odoo
from deploylog.access import did_you_mean
from deploylog.db import Snapshot, on_snapshot
from deploylog.errors import DeploylogError
from deploylog.figures import Comparison, Distribution, Integrity
from deploylog.result import CheckResult, errored, failed, not_applicable, verdict
from deploylog.spec import Module, Spec

MAX_IDS_SHOWN = 20


def _table(rows: dict[str, Any], header: tuple[str, str]) -> str:
    width = max([len(header[0]), *(len(str(k)) for k in rows)])
    lines = [f"{header[0]:<{width}} | {header[1]}", f"{'-' * width}-+-{'-' * len(header[1])}"]
    lines += [f"{k!s:<{width}} | {v}" for k, v in rows.items()]
    return "\n".join(lines)


def _grid(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    """A table of several columns, padded so each column lines up."""
    cells = [tuple(map(str, header)), *(tuple(map(str, r)) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


@on_snapshot
def payment_state_distribution(snap: Snapshot, spec: Spec) -> CheckResult:
    """0.1: posted payments > threshold, posted invoices > threshold, no NULL approval_state."""
    pay = odoo.payment_distribution(snap, spec)
    inv = odoo.invoice_distribution(snap, spec)
    t = spec.thresholds
    problems = []
    if pay["posted"] <= t.min_posted_payments:
        problems.append(f"posted payments {pay['posted']} <= {t.min_posted_payments}")
    if inv["posted"] <= t.min_posted_invoices:
        problems.append(f"posted invoices {inv['posted']} <= {t.min_posted_invoices}")
    if not pay["approval_state_column"] and not spec.deployment.first_install:
        problems.append("account_payment.approval_state does not exist (is the module installed?)")
    elif pay["null_approval_state"]:
        problems.append(f"{pay['null_approval_state']} payment(s) with NULL approval_state")
    evidence = "\n".join(
        [
            f"Payments by state ({pay['state_column']}; posted = {', '.join(pay['posted_states'])}): {pay['posted']} posted",
            _table(pay["by_state"], ("state", "count")),
            "",
            "Payments by approval_state:",
            _table(pay["by_approval_state"], ("approval_state", "count")),
            "",
            f"Posted invoices ({', '.join(inv['move_types'])}): {inv['posted']}",
            _table(inv["posted_by_type"], ("move_type", "posted")),
            "",
            odoo.payment_note(snap),
        ]
    )
    nulls = (
        f"NULL approval_state {pay['null_approval_state']}"
        if pay["approval_state_column"]
        else "approval_state not checked: first install declared ([deployment] first_install = true)"
    )
    summary = (
        f"posted payments {pay['posted']} (> {t.min_posted_payments}), posted invoices {inv['posted']} "
        f"(> {t.min_posted_invoices}), {nulls}"
    )
    return verdict(
        "0.1",
        not problems,
        "; ".join(problems) if problems else summary,
        evidence=evidence,
        queries=pay.queries + inv.queries,
        figures={"payments": pay.values, "invoices": inv.values},
    )


def _recon_evidence(recon: odoo.Figure) -> str:
    keys = (
        "lines",
        "with_move",
        "with_reconciliation",
        "without_move",
        "dangling_move",
        "dangling_reconciliation",
        "orphaned",
    )
    return f"table {recon['table']}\n" + _table({k: recon[k] for k in keys}, ("figure", "count"))


@on_snapshot
def reconciliation_integrity(snap: Snapshot, spec: Spec) -> CheckResult:
    """0.2: reconciliation_lines = with_move = with_reconciliation and orphaned = 0."""
    recon = odoo.reconciliation_lines(snap, spec)
    if not recon["present"]:
        return not_applicable("0.2", recon["reason"])
    equal = recon["lines"] == recon["with_move"] == recon["with_reconciliation"]
    problems = []
    if not equal:
        problems.append(
            f"lines {recon['lines']}, with move {recon['with_move']}, with reconciliation {recon['with_reconciliation']} differ"
        )
    if recon["orphaned"]:
        problems.append(f"{recon['orphaned']} orphaned line(s)")
    message = "; ".join(problems) if problems else f"{recon['lines']} lines, all with move and reconciliation, 0 orphaned"
    return verdict("0.2", not problems, message, evidence=_recon_evidence(recon), queries=recon.queries, figures=recon.values)


# A module's states before the deployment: not installed (a first install may start from these) and installed.
NOT_INSTALLED = (None, "uninstalled", "uninstallable", "to install")
INSTALLED = ("installed", "to upgrade", "to remove")


def _module_problem(spec: Spec, module: Module, fig: dict[str, Any]) -> str:
    """0.3 for one deployed module: installed before the deployment, unless its first install is declared."""
    state = fig["state"]
    name_key, first_key = spec.module_key(module.name, "name"), spec.module_key(module.name, "first_install")
    where = f"is {state!r} in ir_module_module" if fig["found"] else "is not in ir_module_module"
    if state in NOT_INSTALLED and not module.first_install:
        return (
            f"module {module.name!r} ({name_key}) {where}{did_you_mean(fig.get('similar', []))}: "
            f"fix {name_key}, or declare a first install with {first_key} = true"
        )
    if state in INSTALLED and module.first_install:
        return (
            f"{first_key} = true, but module {module.name!r} is {state!r} at {fig['latest_version']}: "
            "an upgrade, not a first install; set first_install = false"
        )
    if state == "to remove":
        return f"module {module.name!r} is 'to remove' in ir_module_module: an uninstall is pending; cancel it before deploying"
    return ""


def _undeclared_pending(spec: Spec, pending: dict[str, str]) -> str:
    """Modules the deployment does not declare, marked for an operation Odoo would apply with it."""
    declared = {m.name for m in spec.all_modules}
    others = {name: state for name, state in pending.items() if name not in declared}
    if not others:
        return ""
    listed = ", ".join(f"{name} {state!r}" for name, state in others.items())
    return (
        f"module(s) pending before the deployment: {listed}: Odoo applies every pending install, upgrade and removal at "
        "its next update, so this deployment would change modules it does not declare; apply or cancel them first "
        "(Apps: Cancel Install/Upgrade/Uninstall), or declare them in [[modules]]"
    )


def module_problem(snap: Snapshot, spec: Spec) -> str:
    """0.3: every deployed module in ir_module_module, installed unless its first install is declared; no other
    module of the database pending (to upgrade, to install, to remove) before the deployment."""
    states = odoo.modules_state(snap, [m.name for m in spec.all_modules])
    problems = [_module_problem(spec, m, states[m.name]) for m in spec.all_modules]
    problems.append(_undeclared_pending(spec, odoo.pending_modules(snap)["pending"]))
    return "; ".join(p for p in problems if p)


def _pending_line(pending: dict[str, str]) -> str:
    listed = ", ".join(f"{name} ({state})" for name, state in pending.items())
    return f"Modules of the database left 'to upgrade', 'to install' or 'to remove': {listed or 'none'}"


def _modules_before(spec: Spec, states: dict[str, Any], pending: dict[str, str]) -> str:
    """The deployed modules' rows before the deployment, as 0.3 records them, and the database's pending ones."""
    rows = [
        (
            m.name,
            states[m.name]["state"] or "not in ir_module_module",
            states[m.name]["latest_version"] or "-",
            m.previous_version or "-",
            "yes" if m.first_install else "no",
        )
        for m in spec.all_modules
        if m.name in states
    ]
    return _grid(("module", "state", "latest_version", "declared before", "first install"), rows) + "\n\n" + _pending_line(pending)


@on_snapshot
def record_baseline(snap: Snapshot, spec: Spec, started_at: dt.datetime, recapture: bool, hosts: Sequence[Host]) -> CheckResult:
    """0.3: write the baseline (or confirm the stored one still describes this database).

    Nothing is written when the configured module is not what deploy.toml
    says, when the HEAD before cannot be recorded on every host, or once the
    deployment has started (a baseline taken then proves nothing).
    """
    path = baseline_mod.path_for(spec)
    modules = odoo.modules_state(snap, [m.name for m in spec.all_modules])
    pending = odoo.pending_modules(snap)
    problem = module_problem(snap, spec)
    if problem:
        return failed(
            "0.3",
            problem,
            evidence=_modules_before(spec, modules.values, pending["pending"]),
            queries=modules.queries + pending.queries,
        )
    _, code_problems = baseline_mod.code_state(spec, hosts)
    if code_problems:
        return failed("0.3", "; ".join(code_problems), queries=[f"git -C {spec.paths.repo} rev-parse HEAD"])
    reconciled = odoo.reconciled_payments(snap, spec)
    figures_now = baseline_mod.figures(snap, spec)
    if path.exists() and not recapture:
        return _kept_baseline(snap, spec, figures_now, reconciled.queries, hosts)
    started = baseline_mod.deployment_started(spec, hosts)
    if started:
        kept = "the stored baseline is kept untouched" if path.exists() else "no baseline is written"
        return failed(
            "0.3",
            f"the deployment has started: {started}; {kept}: a baseline captured now would prove nothing, "
            "a new attempt needs a new [deployment] id (then phase 0)",
            evidence=f"{started}\n{kept}: {path}",
            queries=reconciled.queries,
        )
    archived = baseline_mod.archive_existing(spec) if recapture else None
    data = baseline_mod.store(spec, snap, started_at, hosts)
    evidence = _baseline_evidence(data, path) + "\n\n" + _modules_before(spec, data["modules"], pending["pending"])
    if archived:
        evidence += f"\nprevious baseline archived as {archived}"
    fig = data["figures"]
    firsts = [m.name for m in spec.all_modules if m.first_install]
    first = f" (first install declared: {', '.join(firsts)} not installed yet)" if firsts else ""
    return verdict(
        "0.3",
        True,
        f"baseline recorded{first}: reconciled payments {fig['reconciled_payments_odoo']} (is_reconciled), "
        f"{_fmt(fig['reconciled_payments_module'])} (reconciliation lines)",
        evidence=evidence,
        queries=modules.queries + pending.queries + reconciled.queries + [f["query"] for f in data["fingerprints"].values() if f],
        figures=fig,
    )


def _kept_baseline(snap: Snapshot, spec: Spec, figures_now: dict[str, Any], queries: list[str], hosts: Sequence[Host]) -> CheckResult:
    """0.3 re-run without --recapture-baseline: keep the stored baseline when it still describes the database."""
    path = baseline_mod.path_for(spec)

    def replace() -> str:
        started = baseline_mod.deployment_started(spec, hosts)
        if started:
            return f"the deployment has started ({started}): a new attempt needs a new [deployment] id"
        return "re-run with --recapture-baseline to replace it (the old one is archived)"

    try:
        stored = baseline_mod.load(spec)
        baseline_mod.check_identity(stored, snap.identity())
    except DeploylogError as exc:
        return verdict("0.3", False, f"{exc}; {replace()}", queries=queries)
    same = stored.figures == figures_now and all(
        (stored.data["fingerprints"].get(n) or {}).get("digest") == getattr(fingerprint.compute(snap, spec, n), "digest", None)
        for n in fingerprint.SETS
    )
    evidence = _baseline_evidence(stored.data, path)
    if same:
        return verdict(
            "0.3",
            True,
            f"baseline already recorded at {stored.data['captured_at']} and still matches the database; kept",
            evidence=evidence,
            queries=queries,
            figures=stored.figures,
        )
    return verdict(
        "0.3",
        False,
        f"a baseline recorded at {stored.data['captured_at']} exists and no longer matches the database; {replace()}",
        evidence=evidence,
        queries=queries,
        figures=figures_now,
    )


def _fmt(value: Any) -> str:
    return "n/a" if value is None else str(value)


def _baseline_evidence(data: dict[str, Any], path: Any) -> str:
    fig = data["figures"]
    rows = {
        "Baseline Count (reconciled payments, is_reconciled)": fig["reconciled_payments_odoo"],
        "Reconciled payments (module's reconciliation lines)": _fmt(fig["reconciled_payments_module"]),
        "Payments": fig["payments"],
        "Posted invoices": fig["posted_invoices"],
        "Reconciliation lines": _fmt(fig["reconciliation_lines"]),
    }
    prints = {name: (fp["digest"][:23] + "…" if fp else "n/a") for name, fp in data["fingerprints"].items()}
    db = data["database"]
    return "\n".join(
        [
            _table(rows, ("figure", "value")),
            "",
            _table(prints, ("fingerprint", "digest")),
            "",
            f"file: {path}",
            f"baseline digest: {data['digest']}",
            f"database: {db['database']} (oid {db['oid']}, cluster {db['system_identifier']}, PostgreSQL {db['server_version']})",
            *([baseline_mod.schema_line(data)] if data.get("odoo") else []),
            *(f"code HEAD before ({host}): {e['head']} on {e['branch']}" for host, e in sorted(data["code"]["hosts"].items())),
        ]
    )


def _missing_group(xmlid: str, group: dict[str, Any]) -> str:
    return f"group {xmlid} does not exist{did_you_mean(group['similar'])}"


def _group_lines(found: dict[str, Any]) -> str:
    lines = []
    for xmlid, g in found.items():
        if not g["exists"]:
            lines.append(f"{xmlid}: DOES NOT EXIST{did_you_mean(g['similar'])}")
        else:
            logins = ", ".join(g["logins"][:10]) or "-"
            implied = f" ({g['through_implied']} through an implying group)" if g.get("through_implied") else ""
            lines.append(
                f"{xmlid} ({g['name']}, id {g['id']}): {g['active_members']} active member(s){implied} [{logins}], "
                f"{g['inactive_members']} inactive"
            )
    return "\n".join(lines)


def _members_evidence(snap: Snapshot, found: odoo.Figure) -> str:
    return f"{_group_lines(found.values)}\n\n{odoo.group_note(snap)}"


@on_snapshot
def manager_members(snap: Snapshot, spec: Spec, item: str) -> CheckResult:
    """P.6 / 4.6: the Payment Manager group has enough active members."""
    xmlid = spec.groups.manager
    found = odoo.group_members(snap, [xmlid])
    g = found[xmlid]
    minimum = spec.thresholds.min_manager_members
    evidence = _members_evidence(snap, found)
    if not g["exists"]:
        return verdict(item, False, _missing_group(xmlid, g), evidence=evidence, queries=found.queries)
    implied = f", {g['through_implied']} through an implying group" if g["through_implied"] else ""
    return verdict(
        item,
        g["active_members"] >= minimum,
        f"{g['name']} has {g['active_members']} active member(s){implied} (expected >= {minimum})",
        evidence=evidence,
        queries=found.queries,
        figures={
            "active_members": g["active_members"],
            "inactive_members": g["inactive_members"],
            "through_implied": g["through_implied"],
        },
    )


@on_snapshot
def user_permissions(snap: Snapshot, spec: Spec) -> CheckResult:
    """0.4: Manager exists with >= N active members; Reviewer and Approver exist."""
    ids = [spec.groups.manager, spec.groups.reviewer, spec.groups.approver]
    found = odoo.group_members(snap, ids)
    missing = [x for x in ids if not found[x]["exists"]]
    module = spec.deployment.module
    if spec.deployment.first_install and any(x.startswith(f"{module}.") for x in missing):
        return not_applicable(
            "0.4",
            f"first install declared ([deployment] first_install = true): the groups of {module} do not exist before "
            "it is installed; 4.6 checks the Payment Manager group after the deployment",
        )
    problems = [_missing_group(x, found[x]) for x in missing]
    manager = found[spec.groups.manager]
    minimum = spec.thresholds.min_manager_members
    if manager["exists"] and manager["active_members"] < minimum:
        problems.append(f"{manager['name']} has {manager['active_members']} active member(s), expected >= {minimum}")
    message = "; ".join(problems) or (
        f"{manager['name']} has {manager['active_members']} active member(s); Reviewer and Approver groups exist"
    )
    return verdict("0.4", not problems, message, evidence=_members_evidence(snap, found), queries=found.queries)


def _loaded_problems(module: Module, fig: dict[str, Any]) -> list[str]:
    """4.1 for one deployed module: installed, at its expected version."""
    if not fig["found"]:
        return [f"not in ir_module_module (not installed){did_you_mean(fig.get('similar', []))}"]
    problems = []
    if fig["state"] != "installed":
        problems.append(f"state is {fig['state']!r}, expected 'installed' (a module left in {fig['state']!r} did not load)")
    if fig["latest_version"] != module.expected_version:
        problems.append(f"latest_version is {fig['latest_version']!r}, expected {module.expected_version!r}")
    return problems


@on_snapshot
def module_loaded(snap: Snapshot, spec: Spec) -> CheckResult:
    """4.1: every deployed module installed at its expected latest_version, and no module of the database left
    'to upgrade', 'to install' or 'to remove' (Odoo can fail an upgrade and go on serving)."""
    modules = spec.all_modules
    states = odoo.modules_state(snap, [m.name for m in modules])
    pending = odoo.pending_modules(snap)
    rows: list[tuple[str, ...]] = []
    problems: list[str] = []
    for module in modules:
        fig = states[module.name]
        found = _loaded_problems(module, fig)
        problems += [f"{module.name}: {p}" for p in found]
        result = "OK" if not found else ("NOT FOUND" if not fig["found"] else "FAIL")
        rows.append((module.name, fig["state"] or "-", fig["latest_version"] or "-", f"installed, {module.expected_version}", result))
    others = {n: st for n, st in pending["pending"].items() if n not in {m.name for m in modules}}
    if others:
        listed = ", ".join(f"{n} {st!r}" for n, st in others.items())
        problems.append(f"database-wide: module(s) left pending: {listed} (an operation Odoo did not apply)")
    evidence = "\n".join(
        [
            _grid(("module", "state", "latest_version", "expected", "result"), rows),
            "",
            _pending_line(pending["pending"]),
        ]
    )
    if problems:
        message = "; ".join(problems)
    elif len(modules) == 1:
        message = f"{modules[0].name} installed at {modules[0].expected_version}; no module of the database left pending"
    else:
        listed = ", ".join(f"{m.name} {m.expected_version}" for m in modules)
        message = f"{len(modules)} modules installed at their expected versions ({listed}); no module of the database left pending"
    figures = {"modules": states.values, "pending": pending["pending"]}
    return verdict("4.1", not problems, message, evidence=evidence, queries=states.queries + pending.queries, figures=figures)


@on_snapshot
def workflow_distribution(snap: Snapshot, spec: Spec) -> CheckResult:
    """4.5: approval_state over the window; anomalies are NULLs, unknown values, posted mismatches."""
    fig = odoo.workflow_window(snap, spec)
    if not fig["present"]:
        return verdict("4.5", False, fig["reason"])
    anomalies = []
    if fig["null"]:
        anomalies.append(f"{fig['null']} with NULL approval_state")
    if fig["unknown"]:
        anomalies.append(f"{fig['unknown']} with values outside the selection {fig['unknown_values']}")
    if fig["posted_entry_not_posted_state"]:
        anomalies.append(f"{fig['posted_entry_not_posted_state']} posted entries whose approval_state is not 'posted'")
    if fig["posted_state_entry_not_posted"]:
        anomalies.append(f"{fig['posted_state_entry_not_posted']} with approval_state 'posted' but entry not posted")
    evidence = (
        f"Payments created in the last {fig['window_days']} days: {fig['total']}\n"
        + _table(fig["distribution"], ("approval_state", "count"))
        + ("\n\nAnomalies:\n- " + "\n- ".join(anomalies) if anomalies else "\n\nAnomalies: none")
        + f"\n\n{odoo.payment_note(snap)}"
    )
    message = (
        "ANOMALIES DETECTED: " + "; ".join(anomalies)
        if anomalies
        else (f"HEALTHY: {fig['total']} payment(s) in the last {fig['window_days']} days, no anomalies")
    )
    counts = Distribution(counts=fig["distribution"], values={k: v for k, v in fig.values.items() if k != "distribution"})
    return verdict("4.5", not anomalies, message, evidence=evidence, queries=fig.queries, figures=counts)


@on_snapshot
def orphaned_lines(snap: Snapshot, spec: Spec) -> CheckResult:
    """4.7: no reconciliation line without (or with a vanished) journal entry or reconciliation."""
    recon = odoo.reconciliation_lines(snap, spec)
    if not recon["present"]:
        return not_applicable("4.7", recon["reason"])
    n = recon["orphaned"]
    message = (
        "NO ORPHANS"
        if n == 0
        else (
            f"ORPHANS FOUND: {n} ({recon['without_move']} without move, {recon['dangling_move']} pointing to a deleted move, "
            f"{recon['dangling_reconciliation']} pointing to a deleted reconciliation)"
        )
    )
    return verdict("4.7", n == 0, message, evidence=_recon_evidence(recon), queries=recon.queries, figures=recon.values)


# Phase 5: (item, figure keys compared, fingerprint set, label)
INTEGRITY = {
    "5.1": (("payments",), "payments", "Payment count"),
    "5.2": (("posted_invoices",), "posted_invoices", "Posted invoices count"),
    "5.3": (("reconciliation_lines",), "reconciliation_lines", "Reconciliation count"),
    "5.4": (("reconciled_payments_odoo", "reconciled_payments_module"), "reconciled_payments", "Reconciled payments"),
}


def _ids(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:MAX_IDS_SHOWN]))
    return shown + (f" … (+{len(ids) - MAX_IDS_SHOWN} more)" if len(ids) > MAX_IDS_SHOWN else "")


@on_snapshot
def integrity(snap: Snapshot, spec: Spec, base: baseline_mod.Baseline, item: str) -> CheckResult:
    """5.x: post - baseline = 0 for the counts, and the set's fingerprint unchanged."""
    keys, set_name, label = INTEGRITY[item]
    now = baseline_mod.figures(snap, spec, keys)
    if all(base.figures.get(k) is None and now.get(k) is None for k in keys):
        reason = odoo.reconciliation_lines(snap, spec).values.get("reason", "figure not available")
        return not_applicable(item, reason)
    found = fingerprint.protected_set(set_name, snap, spec)
    note = odoo.layout_note(snap, found[1]) if found else ""
    moved = baseline_mod.layout_change(base, snap) if note else ""
    if moved:
        return errored(item, moved, evidence=note)
    # the counts' pre / post / difference lines are drawn by the log from the Integrity figures
    lines: list[str] = []
    problems: list[str] = []
    for key in keys:
        before, after = base.figures.get(key), now.get(key)
        if before is None and after is None:
            continue
        if before is None or after is None:
            problems.append(f"{key}: baseline {_fmt(before)}, now {_fmt(after)} (cannot compare)")
        elif after != before:
            problems.append(f"{key} {before} -> {after} ({after - before:+d})")
    before_fp = base.data["fingerprints"].get(set_name)
    queries = []
    changes_found: fingerprint.Diff | None = None
    current = fingerprint.compute(snap, spec, set_name) if before_fp is not None else None
    if before_fp is not None and current is None:
        problems.append(f"{set_name}: the baseline has its fingerprint, but the set no longer exists")
    elif before_fp is not None and current is not None:
        changes = fingerprint.diff(snap, spec, set_name, before_fp, base.rows_file(set_name))
        changes_found = changes
        queries.append(current.query)
        if changes is None:
            lines.append(f"fingerprint ({set_name}): unchanged {before_fp['digest'][:23]}…")
        else:
            detail = []
            if changes.changed:
                detail.append(f"changed row id(s) {_ids(changes.changed)}")
            if changes.removed:
                detail.append(f"removed row id(s) {_ids(changes.removed)}")
            if changes.added:
                detail.append(f"added row id(s) {_ids(changes.added)}")
            text = "; ".join(detail) or "content differs"
            lines.append(f"fingerprint ({set_name}): CHANGED — {text}")
            problems.append(f"{set_name} fingerprint changed: {text}")
    critical = " (CRITICAL!)" if item == "5.4" else ""
    message = (
        f"MISMATCH{critical}: " + "; ".join(problems)
        if problems
        else f"MATCH: {label} unchanged (" + ", ".join(f"{k} {now[k]}" for k in keys) + "), fingerprint identical"
    )
    return verdict(
        item,
        not problems,
        message,
        evidence="\n".join([*lines, "", note] if note else lines),
        queries=queries,
        figures=Integrity(
            comparisons=tuple(Comparison(k, base.figures.get(k), now.get(k)) for k in keys),
            fingerprint_set=set_name,
            fingerprint_changed=None if before_fp is None else bool(changes_found),
            changed_ids=len(changes_found.changed) if changes_found else 0,
            added_ids=len(changes_found.added) if changes_found else 0,
            removed_ids=len(changes_found.removed) if changes_found else 0,
        ),
    )
