"""The Odoo-version-aware SQL: one function per figure the log needs.

Every function reads through a Snapshot (one read-only REPEATABLE READ
transaction), computes its figure in SQL (no rows pulled into Python) and
returns it with the SQL that ran, so the log can show exactly what was asked.
The layout is detected once from information_schema: Odoo 17 keeps a
payment's state on account_move, Odoo 18 on account_payment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from deploylog.db import Snapshot

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
    """Which tables and columns this database has, read once from information_schema."""

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


@dataclass
class Figure:
    """A computed figure plus the SQL text that produced it."""

    values: dict[str, Any]
    queries: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def layout(snap: Snapshot, spec: Any) -> Layout:
    def read() -> Layout:
        tables = [*PROTECTED_TABLES, spec.reconciliation.table, spec.reconciliation.reconciliation_table]
        rows = snap.rows(
            """SELECT table_name::text, array_agg(column_name::text)
               FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = ANY(%s)
               GROUP BY table_name""",
            (tables,),
        )
        return Layout({name: frozenset(cols) for name, cols in rows})

    return snap.memo("layout", read)


def module_state(snap: Snapshot, module: str) -> Figure:
    query = "SELECT state, latest_version FROM ir_module_module WHERE name = %s"

    def read() -> Figure:
        row = snap.row(query, (module,))
        values = {"found": bool(row), "state": row[0] if row else None, "latest_version": row[1] if row else None}
        return Figure(values, [query.replace("%s", f"'{module}'")])

    return snap.memo(f"module:{module}", read)


def payment_distribution(snap: Snapshot, spec: Any) -> Figure:
    """Payments by journal-entry state and approval_state, with the totals 0.1 and 5.1 need."""

    def read() -> Figure:
        lay = layout(snap, spec)
        has_approval = lay.has_column("account_payment", "approval_state")
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

    return snap.memo("payments", read)


def invoice_distribution(snap: Snapshot, spec: Any) -> Figure:
    query = """SELECT move_type, state, count(*) FROM account_move
               WHERE move_type = ANY(%s) GROUP BY 1, 2 ORDER BY 1, 2"""

    def read() -> Figure:
        types = list(spec.invoices.move_types)
        rows = snap.rows(query, (types,))
        posted = {t: 0 for t in types}
        for move_type, state, count in rows:
            if state == "posted":
                posted[move_type] += count
        values = {
            "move_types": types,
            "posted": sum(posted.values()),
            "posted_by_type": posted,
            "by_type_and_state": {f"{t}/{s}": c for t, s, c in rows},
        }
        return Figure(values, [query.replace("%s", "ARRAY" + repr(types))])

    return snap.memo("invoices", read)


def reconciliation_lines(snap: Snapshot, spec: Any) -> Figure:
    """Line counts of the configured reconciliation table; values['present'] False when absent."""

    def read() -> Figure:
        cfg = spec.reconciliation
        lay = layout(snap, spec)
        missing = [f"{cfg.table}.{col}" for col in (cfg.move_column, cfg.reconciliation_column) if not lay.has_column(cfg.table, col)]
        if not lay.has_table(cfg.table) or missing:
            reason = (
                f"table {cfg.table} does not exist in this database (not stock Odoo 17; set [reconciliation] table)"
                if not lay.has_table(cfg.table)
                else f"column(s) {', '.join(missing)} do not exist"
            )
            return Figure({"present": False, "reason": reason})
        rec_join = sql.SQL("")
        dangling_rec = sql.SQL("0")
        if lay.has_table(cfg.reconciliation_table):
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

    return snap.memo("reconciliation_lines", read)


def reconciled_payments(snap: Snapshot, spec: Any) -> Figure:
    """Both honest definitions: Odoo's is_reconciled, and the module's reconciliation lines."""

    def read() -> Figure:
        payments = payment_distribution(snap, spec)
        values: dict[str, Any] = {"odoo_is_reconciled": payments["reconciled_odoo"]}
        queries = ["-- odoo_is_reconciled from: " + payments.queries[0]]
        recon = reconciliation_lines(snap, spec)
        if recon["present"]:
            cfg = spec.reconciliation
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


def groups(snap: Snapshot, xmlids: list[str]) -> Figure:
    """Resolve groups by XML id through ir_model_data; members counted among active users only."""
    query = """SELECT d.module || '.' || d.name, g.id, g.name->>'en_US',
                      count(u.id) FILTER (WHERE u.active), count(u.id) FILTER (WHERE NOT u.active),
                      array_remove(array_agg(u.login ORDER BY u.login) FILTER (WHERE u.active), NULL)
               FROM ir_model_data d
               LEFT JOIN res_groups g ON g.id = d.res_id
               LEFT JOIN res_groups_users_rel r ON r.gid = g.id
               LEFT JOIN res_users u ON u.id = r.uid
               WHERE d.model = 'res.groups' AND d.module || '.' || d.name = ANY(%s)
               GROUP BY 1, 2, 3"""

    def read() -> Figure:
        found = {
            xmlid: {
                "exists": gid is not None,
                "id": gid,
                "name": name,
                "active_members": active,
                "inactive_members": inactive,
                "logins": list(logins or []),
            }
            for xmlid, gid, name, active, inactive, logins in snap.rows(query, (list(xmlids),))
        }
        values = {
            x: found.get(x, {"exists": False, "id": None, "name": None, "active_members": 0, "inactive_members": 0, "logins": []})
            for x in xmlids
        }
        return Figure(values, [query.replace("%s", "ARRAY" + repr(list(xmlids)))])

    return snap.memo("groups:" + ",".join(sorted(xmlids)), read)


def workflow_window(snap: Snapshot, spec: Any) -> Figure:
    """4.5: approval_state of payments created in the last N days, and the anomalies."""

    def read() -> Figure:
        lay = layout(snap, spec)
        if not lay.has_column("account_payment", "approval_state"):
            return Figure({"present": False, "reason": "account_payment.approval_state does not exist (module not installed?)"})
        query = sql.SQL(
            """SELECT p.approval_state, {state}, count(*)
               FROM account_payment p JOIN account_move m ON m.id = p.move_id
               WHERE p.create_date >= (now() AT TIME ZONE 'UTC') - make_interval(days => %s)
               GROUP BY 1, 2 ORDER BY 1, 2"""
        ).format(state=lay.payment_state())
        days = spec.thresholds.workflow_window_days
        rows = snap.rows(query, (days,))
        allowed = set(spec.approval.payment_states)
        distribution: dict[str, int] = {}
        null_count = unknown = posted_not_approved = approved_not_posted = 0
        unknown_values: set[str] = set()
        for approval, state, count in rows:
            distribution[approval if approval is not None else "NULL"] = (
                distribution.get(approval if approval is not None else "NULL", 0) + count
            )
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
        return Figure(values, [snap.text(query).replace("%s", str(days))])

    return snap.memo("workflow_window", read)
