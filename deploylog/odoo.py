"""The Odoo-version-aware SQL: one function per figure the log needs.

Every function reads through a Snapshot (one read-only REPEATABLE READ
transaction), declares the tables and columns its SQL reads (checked for
existence and privilege before it runs: access.py), computes its figure in
SQL (no rows pulled into Python) and returns it with the SQL that ran, so the
log can show exactly what was asked. The layout is read once from pg_catalog:
Odoo 17 keeps a payment's state on account_move, Odoo 18 on account_payment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from deploylog.access import Reads, close_matches, did_you_mean
from deploylog.db import IDENTITY_READS, Snapshot
from deploylog.errors import DeploylogError, MissingObjectError
from deploylog.spec import Spec

PROTECTED_TABLES = (
    "account_payment",
    "account_move",
    "ir_module_module",
    "res_groups",
    "res_groups_users_rel",
    "res_users",
    "ir_model_data",
)


@dataclass(frozen=True)
class Layout:
    """Which columns the Odoo tables have, from pg_catalog (whatever the role may read)."""

    columns: dict[str, frozenset[str]]

    def has_table(self, table: str) -> bool:
        return table in self.columns

    def has_column(self, table: str, column: str) -> bool:
        return column in self.columns.get(table, frozenset())

    @property
    def payment_state_on_payment(self) -> bool:
        """Odoo 18 moved `state` onto account_payment; Odoo 17 keeps it on account_move."""
        return self.has_column("account_payment", "state")

    def payment_state(self) -> sql.Composable:
        return sql.SQL("p.state") if self.payment_state_on_payment else sql.SQL("m.state")

    def payment_state_reads(self) -> Reads:
        """The payment join (account_payment p JOIN account_move m) and the state column it reads."""
        state = ("state",) if self.payment_state_on_payment else ()
        return Reads({"account_payment": ("move_id", *state), "account_move": ("id",) if state else ("id", "state")})


@dataclass
class Figure:
    """A computed figure plus the SQL text that produced it."""

    values: dict[str, Any]
    queries: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def layout(snap: Snapshot) -> Layout:
    def read() -> Layout:
        found = snap.catalog.relations(PROTECTED_TABLES)
        return Layout({name: frozenset(rel.columns) for name, rel in found.items() if rel.exists})

    return snap.memo("layout", read)


MODULE_READS = Reads({"ir_module_module": ("name", "state", "latest_version")})


def module_state(snap: Snapshot, module: str) -> Figure:
    """The module's row in ir_module_module; when it has none, the module names it may have meant."""
    query = "SELECT state, latest_version FROM ir_module_module WHERE name = %s"
    names = "SELECT name FROM ir_module_module"

    def read() -> Figure:
        row = snap.row(query, (module,))
        values = {"found": bool(row), "state": row[0] if row else None, "latest_version": row[1] if row else None}
        queries = [snap.shown(query, (module,))]
        if not row:
            values["similar"] = close_matches(module, (r[0] for r in snap.rows(names)))
            queries.append(names)
        return Figure(values, queries)

    return snap.memo(f"module:{module}", read, MODULE_READS)


def payment_distribution(snap: Snapshot, spec: Spec) -> Figure:
    """Payments by journal-entry state and approval_state, with the totals 0.1 and 5.1 need."""
    lay = layout(snap)
    has_approval = lay.has_column("account_payment", "approval_state")

    def read() -> Figure:
        approval = sql.SQL("p.approval_state") if has_approval else sql.SQL("NULL::varchar")
        query = sql.SQL(
            """SELECT {state} AS state, {approval} AS approval_state, count(*),
                      count(*) FILTER (WHERE p.is_reconciled)
               FROM account_payment p JOIN account_move m ON m.id = p.move_id
               GROUP BY 1, 2 ORDER BY 1, 2"""
        ).format(state=lay.payment_state(), approval=approval)
        rows = snap.rows(query)
        by_state: dict[str, int] = {}
        by_approval: dict[str, int] = {}
        for state, appr, count, _ in rows:
            by_state[state] = by_state.get(state, 0) + count
            key = appr if appr is not None else "NULL"
            by_approval[key] = by_approval.get(key, 0) + count
        values = {
            "total": sum(r[2] for r in rows),
            "posted": by_state.get("posted", 0),
            "by_state": by_state,
            "by_approval_state": by_approval,
            "null_approval_state": by_approval.get("NULL", 0) if has_approval else None,
            "approval_state_column": has_approval,
            "reconciled_odoo": sum(r[3] for r in rows),
            "state_column": "account_payment.state" if lay.payment_state_on_payment else "account_move.state",
        }
        return Figure(values, [snap.text(query)])

    return snap.memo("payments", read, _payment_reads(lay))


def _payment_reads(lay: Layout) -> Reads:
    approval = ("approval_state",) if lay.has_column("account_payment", "approval_state") else ()
    return lay.payment_state_reads() + Reads({"account_payment": ("is_reconciled", *approval)})


INVOICE_READS = Reads({"account_move": ("move_type", "state")})


def invoice_distribution(snap: Snapshot, spec: Spec) -> Figure:
    query = """SELECT move_type, state, count(*) FROM account_move
               WHERE move_type = ANY(%s) GROUP BY 1, 2 ORDER BY 1, 2"""
    types = list(spec.invoices.move_types)

    def read() -> Figure:
        rows = snap.rows(query, (types,))
        posted = dict.fromkeys(types, 0)
        for move_type, state, count in rows:
            if state == "posted":
                posted[move_type] += count
        values = {
            "move_types": types,
            "posted": sum(posted.values()),
            "posted_by_type": posted,
            "by_type_and_state": {f"{t}/{s}": c for t, s, c in rows},
        }
        return Figure(values, [snap.shown(query, (types,))])

    return snap.memo("invoices", read, INVOICE_READS)


def reconciliation_absent(snap: Snapshot, spec: Spec) -> str:
    """Why the reconciliation figures are N/A ('' when the configured tables are there).

    N/A only when deploy.toml declares them optional ([reconciliation] optional)
    and the table is absent. A name that matches nothing but is close to an
    existing table is a typo: an error even when optional. A configured column
    or reconciliation table that does not exist is an error naming its key.
    """

    def read() -> str:
        cfg = spec.reconciliation
        configured = [cfg.table, cfg.reconciliation_table]
        line = snap.catalog.relation(cfg.table)
        if not line.exists and not line.hidden_in:  # hidden in a schema without USAGE: a privilege error, below
            close = snap.catalog.similar_tables(cfg.table, exclude=configured)
            if close:
                raise MissingObjectError(
                    f"[reconciliation] table = {cfg.table!r} is not a table of this database{did_you_mean(close)}: "
                    "a misspelt name is an error, never an absent optional table"
                )
            if cfg.optional:
                return f"table {cfg.table} does not exist in this database ([reconciliation] optional = true: it is not stock Odoo 17)"
            raise MissingObjectError(
                f"[reconciliation] table = {cfg.table!r} does not exist in this database: name the table holding the "
                "reconciliation lines, or set [reconciliation] optional = true if this database has none (not stock Odoo 17)"
            )
        for key in ("move_column", "reconciliation_column"):
            column = getattr(cfg, key)
            if line.exists and column not in line.columns:
                raise MissingObjectError(
                    f"[reconciliation] {key} = {column!r} is not a column of {line.qualified}"
                    f"{did_you_mean(close_matches(column, line.columns))}"
                )
        if cfg.reconciliation_table:
            header = snap.catalog.relation(cfg.reconciliation_table)
            if not header.exists and not header.hidden_in:
                close = snap.catalog.similar_tables(cfg.reconciliation_table, exclude=configured)
                raise MissingObjectError(
                    f"[reconciliation] reconciliation_table = {cfg.reconciliation_table!r} does not exist in this database"
                    f"{did_you_mean(close)}"
                )
        return ""

    return str(snap.memo("reconciliation_config", read))


def _reconciliation_reads(spec: Spec) -> Reads:
    cfg = spec.reconciliation
    header = {cfg.reconciliation_table: ("id",)} if cfg.reconciliation_table else {}
    return Reads({cfg.table: (cfg.move_column, cfg.reconciliation_column), "account_move": ("id",), **header})


def reconciliation_lines(snap: Snapshot, spec: Spec) -> Figure:
    """Line counts of the configured reconciliation table; values['present'] False when optional and absent."""
    absent = reconciliation_absent(snap, spec)
    if absent:
        return Figure({"present": False, "reason": absent})
    cfg = spec.reconciliation

    def read() -> Figure:
        rec_join: sql.Composable = sql.SQL("")
        dangling_rec: sql.Composable = sql.SQL("0")
        if cfg.reconciliation_table:
            rec_join = sql.SQL("LEFT JOIN {rt} r ON r.id = l.{rc}").format(
                rt=sql.Identifier(cfg.reconciliation_table), rc=sql.Identifier(cfg.reconciliation_column)
            )
            dangling_rec = sql.SQL("count(*) FILTER (WHERE l.{rc} IS NOT NULL AND r.id IS NULL)").format(
                rc=sql.Identifier(cfg.reconciliation_column)
            )
        query = sql.SQL(
            """SELECT count(*) AS lines, count(l.{mc}) AS with_move, count(l.{rc}) AS with_reconciliation,
                      count(*) FILTER (WHERE l.{mc} IS NULL) AS without_move,
                      count(*) FILTER (WHERE l.{mc} IS NOT NULL AND m.id IS NULL) AS dangling_move,
                      {dangling_rec} AS dangling_reconciliation
               FROM {t} l LEFT JOIN account_move m ON m.id = l.{mc} {rec_join}"""
        ).format(
            t=sql.Identifier(cfg.table),
            mc=sql.Identifier(cfg.move_column),
            rc=sql.Identifier(cfg.reconciliation_column),
            rec_join=rec_join,
            dangling_rec=dangling_rec,
        )
        lines, with_move, with_rec, without_move, dangling_move, dangling_rec_n = snap.row(query)
        values = {
            "present": True,
            "table": cfg.table,
            "lines": lines,
            "with_move": with_move,
            "with_reconciliation": with_rec,
            "without_move": without_move,
            "dangling_move": dangling_move,
            "dangling_reconciliation": dangling_rec_n,
            "orphaned": without_move + dangling_move + dangling_rec_n,
        }
        return Figure(values, [snap.text(query)])

    return snap.memo("reconciliation_lines", read, _reconciliation_reads(spec))


def reconciled_payments(snap: Snapshot, spec: Spec) -> Figure:
    """Both honest definitions: Odoo's is_reconciled, and the module's reconciliation lines."""
    cfg = spec.reconciliation

    def read() -> Figure:
        payments = payment_distribution(snap, spec)
        values: dict[str, Any] = {"odoo_is_reconciled": payments["reconciled_odoo"]}
        queries = ["-- odoo_is_reconciled from: " + payments.queries[0]]
        recon = reconciliation_lines(snap, spec)
        if recon["present"]:
            query = sql.SQL(
                "SELECT count(*) FROM account_payment p WHERE EXISTS (SELECT 1 FROM {t} l WHERE l.{mc} = p.move_id)"
            ).format(t=sql.Identifier(cfg.table), mc=sql.Identifier(cfg.move_column))
            values["module_reconciliation_lines"] = snap.row(query)[0]
            queries.append(snap.text(query))
        else:
            values["module_reconciliation_lines"] = None
            values["module_reason"] = recon["reason"]
        return Figure(values, queries)

    return snap.memo("reconciled_payments", read)


GROUP_READS = Reads({"ir_model_data": ("module", "name", "model", "res_id"), "res_groups": ("id", "name")})
MEMBER_READS = Reads({"res_groups_users_rel": ("gid", "uid"), "res_users": ("id", "login", "active")})


def _group_hints(snap: Snapshot, missing: list[str]) -> tuple[dict[str, list[str]], str]:
    """For XML ids that resolve to no group: the same name in another module, or a close spelling."""
    query = "SELECT module || '.' || name FROM ir_model_data WHERE model = 'res.groups'"
    known = [r[0] for r in snap.rows(query)]
    hints = {}
    for xmlid in missing:
        name = xmlid.split(".", 1)[-1]
        same_name = [k for k in known if k.split(".", 1)[-1] == name and k != xmlid]
        hints[xmlid] = same_name or close_matches(xmlid, known)
    return hints, query


def groups(snap: Snapshot, xmlids: Iterable[str]) -> Figure:
    """The one group lookup: XML id -> res.groups id and name through ir_model_data (P.6, 0.4, 4.2-4.6).

    values[xmlid] = {exists, id, name, similar}: `similar` names the groups a
    missing XML id may have meant (`base.group_system` for `account.group_system`).
    """
    wanted = sorted(set(xmlids))
    query = """SELECT d.module || '.' || d.name, g.id, g.name->>'en_US'
               FROM ir_model_data d JOIN res_groups g ON g.id = d.res_id
               WHERE d.model = 'res.groups' AND d.module || '.' || d.name = ANY(%s)"""

    def read() -> Figure:
        found = {xmlid: (gid, name) for xmlid, gid, name in snap.rows(query, (wanted,))}
        queries = [snap.shown(query, (wanted,))]
        hints: dict[str, list[str]] = {}
        missing = [x for x in wanted if x not in found]
        if missing:
            hints, hint_query = _group_hints(snap, missing)
            queries.append(hint_query)
        values = {}
        for xmlid in wanted:
            gid, name = found.get(xmlid, (None, None))
            values[xmlid] = {"exists": xmlid in found, "id": gid, "name": name, "similar": hints.get(xmlid, [])}
        return Figure(values, queries)

    return snap.memo("groups:" + ",".join(wanted), read, GROUP_READS)


def group_members(snap: Snapshot, xmlids: Iterable[str]) -> Figure:
    """The groups (resolved by `groups`) with their members, counted among active users only."""
    resolved = groups(snap, xmlids)
    ids = sorted(g["id"] for g in resolved.values.values() if g["exists"])
    query = """SELECT r.gid, count(u.id) FILTER (WHERE u.active), count(u.id) FILTER (WHERE NOT u.active),
                      coalesce(array_agg(u.login ORDER BY u.login) FILTER (WHERE u.active), '{}')
               FROM res_groups_users_rel r JOIN res_users u ON u.id = r.uid
               WHERE r.gid = ANY(%s) GROUP BY 1"""

    def read() -> Figure:
        members = {gid: (active, inactive, list(logins)) for gid, active, inactive, logins in snap.rows(query, (ids,))}
        values = {}
        for xmlid, g in resolved.values.items():
            active, inactive, logins = members.get(g["id"], (0, 0, []))
            values[xmlid] = {**g, "active_members": active, "inactive_members": inactive, "logins": logins}
        return Figure(values, [*resolved.queries, snap.shown(query, (ids,))])

    return snap.memo("members:" + ",".join(str(i) for i in ids), read, MEMBER_READS)


def workflow_window(snap: Snapshot, spec: Spec) -> Figure:
    """4.5: approval_state of payments created in the last N days, and the anomalies."""
    lay = layout(snap)
    if not lay.has_column("account_payment", "approval_state"):
        return Figure({"present": False, "reason": "account_payment.approval_state does not exist (module not installed?)"})
    query = sql.SQL(
        """SELECT p.approval_state, {state}, count(*)
           FROM account_payment p JOIN account_move m ON m.id = p.move_id
           WHERE p.create_date >= (now() AT TIME ZONE 'UTC') - make_interval(days => %s)
           GROUP BY 1, 2 ORDER BY 1, 2"""
    ).format(state=lay.payment_state())
    days = spec.thresholds.workflow_window_days

    def read() -> Figure:
        rows = snap.rows(query, (days,))
        allowed = set(spec.approval.payment_states)
        distribution: dict[str, int] = {}
        null_count = unknown = posted_not_approved = approved_not_posted = 0
        unknown_values: set[str] = set()
        for approval, state, count in rows:
            key = approval if approval is not None else "NULL"
            distribution[key] = distribution.get(key, 0) + count
            if approval is None:
                null_count += count
            elif approval not in allowed:
                unknown += count
                unknown_values.add(approval)
            if state == "posted" and approval not in (None, "posted"):
                posted_not_approved += count
            if approval == "posted" and state != "posted":
                approved_not_posted += count
        values = {
            "present": True,
            "window_days": days,
            "total": sum(distribution.values()),
            "distribution": distribution,
            "null": null_count,
            "unknown": unknown,
            "unknown_values": sorted(unknown_values),
            "posted_entry_not_posted_state": posted_not_approved,
            "posted_state_entry_not_posted": approved_not_posted,
        }
        return Figure(values, [snap.shown(query, (days,))])

    return snap.memo("workflow_window", read, _workflow_reads(lay))


def _workflow_reads(lay: Layout) -> Reads:
    return lay.payment_state_reads() + Reads({"account_payment": ("approval_state", "create_date")})


def every_read(snap: Snapshot, spec: Spec) -> tuple[Reads, list[str]]:
    """What the figures of a run read (P.7 checks it a day ahead), and the configuration errors met on the way.

    The fingerprints' reads are fingerprint.protected_set's; the reconciliation
    tables count only when present (or misconfigured: then the error is listed).
    """
    lay = layout(snap)
    reads = _payment_reads(lay) + INVOICE_READS + MODULE_READS + GROUP_READS + MEMBER_READS + IDENTITY_READS
    if lay.has_column("account_payment", "approval_state"):
        reads = reads + _workflow_reads(lay)
    errors = []
    try:
        if not reconciliation_absent(snap, spec):
            reads = reads + _reconciliation_reads(spec)
    except DeploylogError as exc:
        errors.append(str(exc))
    return reads, errors
