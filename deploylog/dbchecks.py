"""Database items of the log (P.6, 0.1-0.4, 4.1, 4.5-4.7, and phase 5's [[protect]] items): figure -> verdict.

Each function reads figures through the session Snapshot and returns a
CheckResult whose evidence is what the template asks to paste, plus the SQL
that actually ran.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from deploylog import baseline as baseline_mod
from deploylog import fingerprint, odoo, protect
from deploylog.access import did_you_mean
from deploylog.db import Snapshot, on_snapshot
from deploylog.errors import DeploylogError, MissingObjectError
from deploylog.figures import Comparison, Distribution, Integrity
from deploylog.result import CheckResult, errored, failed, not_applicable, verdict
from deploylog.spec import Module, Protect, Spec, given

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.host import Host

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
    queries = modules.queries + pending.queries
    if path.exists() and not recapture:
        return _kept_baseline(snap, spec, queries, hosts)
    started = baseline_mod.deployment_started(spec, hosts)
    if started:
        kept = "the stored baseline is kept untouched" if path.exists() else "no baseline is written"
        return failed(
            "0.3",
            f"the deployment has started: {started}; {kept}: a baseline captured now would prove nothing, "
            "a new attempt needs a new [deployment] id (then phase 0)",
            evidence=f"{started}\n{kept}: {path}",
            queries=queries,
        )
    archived = baseline_mod.archive_existing(spec) if recapture else None
    data = baseline_mod.store(spec, snap, started_at, hosts)
    evidence = _baseline_evidence(data, path) + "\n\n" + _modules_before(spec, data["modules"], pending["pending"])
    if archived:
        evidence += f"\nprevious baseline archived as {archived}"
    fig = data["figures"]
    firsts = [m.name for m in spec.all_modules if m.first_install]
    first = f" (first install declared: {', '.join(firsts)} not installed yet)" if firsts else ""
    counted = ", ".join(f"{name} {_fmt(value)}" for name, value in fig.items()) or "no [[protect]] set declared"
    return verdict(
        "0.3",
        True,
        f"baseline recorded{first}: {counted}",
        evidence=evidence,
        queries=queries + [f["query"] for f in data["fingerprints"].values() if f.get("query")],
        figures=fig,
    )


def _kept_baseline(snap: Snapshot, spec: Spec, queries: list[str], hosts: Sequence[Host]) -> CheckResult:
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
        method = stored.method
        now = {e.name: fingerprint.compute(snap, spec, e, method) for e in spec.protect}
    except DeploylogError as exc:
        return verdict("0.3", False, f"{exc}; {replace()}", queries=queries)
    same = set(now) == set(stored.data["fingerprints"]) and all(_same_print(stored.entry(name), found) for name, found in now.items())
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
        f"a baseline recorded at {stored.data['captured_at']} exists and no longer matches the database "
        f"(or the [[protect]] sets of deploy.toml); {replace()}",
        evidence=evidence,
        queries=queries,
        figures=stored.figures,
    )


def _same_print(before: dict[str, Any] | None, now: fingerprint.Fingerprint | fingerprint.Absent) -> bool:
    if before is None:
        return False
    if isinstance(now, fingerprint.Absent):
        return "absent" in before
    return before.get("digest") == now.digest and before.get("counts", {}) == now.counts


def _fmt(value: Any) -> str:
    return "n/a" if value is None else str(value)


def _baseline_evidence(data: dict[str, Any], path: Any) -> str:
    sets = {}
    for name, entry in data["fingerprints"].items():
        counts = "".join(f", {k} {v}" for k, v in (entry.get("counts") or {}).items())
        shown = f"N/A: {entry['absent']}" if "absent" in entry else f"{entry['count']} rows{counts}, {entry['digest'][:23]}…"
        sets[f"{name} ({entry['item']})"] = shown
    db = data["database"]
    method = data["fingerprint"]
    return "\n".join(
        [
            _table(sets, ("protected set (item)", "count, sub-counts, fingerprint")) if sets else "no [[protect]] set declared",
            "",
            f"fingerprints: {method['summary']} (PostgreSQL {method['server_major']})",
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
    xmlid = given(spec.groups, "groups").manager
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
    """0.4: Manager exists with >= N active members; Reviewer and Approver (those [groups] names) exist."""
    groups = given(spec.groups, "groups")
    others = {role: xmlid for role, xmlid in (("Reviewer", groups.reviewer), ("Approver", groups.approver)) if xmlid}
    ids = [groups.manager, *others.values()]
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
    manager = found[groups.manager]
    minimum = spec.thresholds.min_manager_members
    if manager["exists"] and manager["active_members"] < minimum:
        problems.append(f"{manager['name']} has {manager['active_members']} active member(s), expected >= {minimum}")
    exist = f"; {' and '.join(others)} group{'s' if len(others) > 1 else ''} exist" if others else ""
    message = "; ".join(problems) or f"{manager['name']} has {manager['active_members']} active member(s){exist}"
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


def _ids(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:MAX_IDS_SHOWN]))
    return shown + (f" … (+{len(ids) - MAX_IDS_SHOWN} more)" if len(ids) > MAX_IDS_SHOWN else "")


def _changes(changes: fingerprint.Diff) -> str:
    detail = []
    if changes.changed:
        detail.append(f"changed row id(s) {_ids(changes.changed)}")
    if changes.removed:
        detail.append(f"removed row id(s) {_ids(changes.removed)}")
    if changes.added:
        detail.append(f"added row id(s) {_ids(changes.added)}")
    return "; ".join(detail) or "content differs"


class _Compared:
    """What comparing the sets of one item found: comparisons, evidence lines, problems, queries."""

    def __init__(self) -> None:
        self.comparisons: list[Comparison] = []
        self.lines: list[str] = []
        self.problems: list[str] = []
        self.queries: list[str] = []
        self.notes: list[str] = []
        self.absent: list[str] = []
        self.sets: list[str] = []
        self.changed: list[fingerprint.Diff] = []
        self.fingerprinted = False

    def counts(self, name: str, before: dict[str, Any], now: fingerprint.Fingerprint) -> None:
        pairs = [(name, before.get("count"), now.count)]
        pairs += [(f"{name}.{k}", (before.get("counts") or {}).get(k), v) for k, v in now.counts.items()]
        for key, old, new in pairs:
            self.comparisons.append(Comparison(key, old, new))
            if old is None:
                self.problems.append(f"{key}: not in the baseline, now {new} (cannot compare)")
            elif new != old:
                self.problems.append(f"{key} {old} -> {new} ({new - old:+d})")


def _compare_set(snap: Snapshot, spec: Spec, base: baseline_mod.Baseline, entry: Protect, found: _Compared) -> CheckResult | None:
    """One set of an item: its counts and its fingerprint against the baseline's (a result when the item cannot be compared)."""
    name = entry.name
    before = base.entry(name)
    if before is None:
        raise DeploylogError(
            f"the baseline holds no fingerprint of {protect.label(entry)} (declared after phase 0): before deploying, "
            f"recapture it with `{baseline_mod.RECAPTURE_COMMAND}`; after, start a new attempt with a new [deployment] id"
        )

    def lost(exc: MissingObjectError) -> None:
        """Rows there at phase 0, the table (or a column) they came from gone now: lost, whatever `optional` says."""
        if "absent" in before:
            raise exc
        found.comparisons.append(Comparison(name, before.get("count"), None))
        found.problems.append(f"{name}: at phase 0 {before['count']} rows, now unreadable: {exc}")

    try:
        rows = protect.rows(snap, spec, entry)  # a misspelt or misconfigured name raises: an error, not a loss
    except protect.AbsentTableError as exc:
        lost(exc)
        return None
    moved = baseline_mod.layout_change(base, snap) if rows.note else ""
    if moved:
        return errored(entry.item, moved, evidence=rows.note)
    if "absent" not in before and rows.select is not None:
        definition = baseline_mod.definition_of(snap, spec, entry, base.method)
        if before.get("definition") != definition:
            return errored(
                entry.item,
                f"{protect.label(entry)}: the set's definition differs from the one phase 0 fingerprinted (deploy.toml "
                "edited, or the database's layout changed): its rows cannot be compared; a new attempt needs a new "
                "[deployment] id, then phase 0",
                evidence=f"At phase 0:\n{before.get('definition')}\n\nNow:\n{definition}",
            )
    try:
        now = fingerprint.compute(snap, spec, entry, base.method)
    except MissingObjectError as exc:  # the definition is phase 0's: what it read is gone
        lost(exc)
        return None
    if rows.note and rows.note not in found.notes:
        found.notes.append(rows.note)
    if isinstance(now, fingerprint.Absent) or "absent" in before:
        if isinstance(now, fingerprint.Absent) and "absent" in before:
            found.comparisons.append(Comparison(name, None, None))
            found.lines.append(f"{name}: N/A, {now.reason}")
            found.absent.append(now.reason)
            return None
        then = f"absent ({before['absent']})" if "absent" in before else f"{before['count']} rows"
        later = f"absent ({now.reason})" if isinstance(now, fingerprint.Absent) else f"{now.count} rows"
        found.comparisons.append(Comparison(name, before.get("count"), None if isinstance(now, fingerprint.Absent) else now.count))
        found.problems.append(f"{name}: at phase 0 {then}, now {later} (cannot compare)")
        return None
    found.sets.append(name)
    found.fingerprinted = True
    found.counts(name, before, now)
    found.queries.append(now.query)
    changes = fingerprint.diff(snap, spec, entry, base.method, before, base.rows_file(name))
    if changes is None:
        found.lines.append(f"fingerprint ({name}): unchanged {before['digest'][:23]}…")
        return None
    found.changed.append(changes)
    text = _changes(changes)
    found.lines.append(f"fingerprint ({name}): CHANGED — {text}")
    found.problems.append(f"{name} fingerprint changed: {text}")
    return None


@on_snapshot
def integrity(snap: Snapshot, spec: Spec, base: baseline_mod.Baseline, item: str) -> CheckResult:
    """A phase-5 item: for each [[protect]] set feeding it, post - baseline = 0 for its counts and its fingerprint unchanged."""
    entries = protect.items(spec).get(item)
    if not entries:
        raise DeploylogError(f"item {item} is fed by no [[protect]] entry of deploy.toml")
    found = _Compared()
    for entry in entries:
        stopped = _compare_set(snap, spec, base, entry, found)
        if stopped is not None:
            return stopped
    if not found.fingerprinted and not found.problems:
        return not_applicable(item, "; ".join(found.absent))
    # the counts' pre / post / difference lines are drawn by the log from the Integrity figures
    counted = ", ".join(f"{c.label} {c.current}" for c in found.comparisons if c.current is not None)
    prints = "fingerprints identical" if len(found.sets) > 1 else "fingerprint identical"
    message = "MISMATCH: " + "; ".join(found.problems) if found.problems else f"MATCH: {counted} unchanged, {prints}"
    evidence = "\n".join([*found.lines, *(["", *found.notes] if found.notes else [])])
    return verdict(
        item,
        not found.problems,
        message,
        evidence=evidence,
        queries=found.queries,
        figures=Integrity(
            comparisons=tuple(found.comparisons),
            fingerprint_set=", ".join(found.sets),
            fingerprint_changed=bool(found.changed) if found.fingerprinted else None,
            changed_ids=sum(len(c.changed) for c in found.changed),
            added_ids=sum(len(c.added) for c in found.changed),
            removed_ids=sum(len(c.removed) for c in found.changed),
        ),
    )
