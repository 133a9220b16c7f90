"""The Odoo-version-aware SQL: one function per figure the log needs.

Every function reads through a Snapshot (one read-only REPEATABLE READ
transaction), declares the tables and columns its SQL reads (checked for
existence and privilege before it runs: access.py), computes its figure in
SQL (no rows pulled into Python) and returns it with the SQL that ran, so the
log can show exactly what was asked.

The version knowledge lives here and nowhere else (../shared/ODOO-VERSIONS.md):
the Odoo version comes from the database (the `base` module's latest_version),
the columns from pg_catalog, and the two must agree on a layout this module
knows, or every figure that depends on it is an ERROR naming what was expected
(a wrong count is worse than none). A layout is a set of named SQL fragments -
where a payment's state, name and date live, which states are "posted", how a
payment reaches its journal entry, how a group's members are counted - that
the figures and the protected sets (fingerprint.py) compose:

- Odoo 16, 17: a payment is a journal entry (`account_payment.move_id` NOT
  NULL); its state, name and date are account_move's; posted = 'posted'.
- Odoo 18, 19: a payment has its own state, name and date; `move_id` may be
  NULL (no entry without an outstanding account), so payments are counted
  from account_payment alone; posted = 'in_process', 'paid'.
- Odoo 16-18: res_groups_users_rel holds every membership, implied ones
  included (Odoo writes them); Odoo 19 stores the direct ones only, so members
  of a group include, recursively, the members of the groups implying it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from deploylog.access import Reads, close_matches, did_you_mean
from deploylog.db import IDENTITY_READS, Snapshot
from deploylog.errors import DeploylogError, MissingObjectError, PrivilegeError
from deploylog.spec import Spec, given

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from psycopg import sql

# The tables whose columns decide the layout (read once from pg_catalog, whatever the role may read).
LAYOUT_TABLES = (
    "account_payment",
    "account_move",
    "ir_module_module",
    "res_groups",
    "res_groups_users_rel",
    "res_groups_implied_rel",
    "res_groups_privilege",
    "res_users",
    "ir_model_data",
)
KNOWN_MAJORS = (16, 17, 18, 19)


class LayoutError(DeploylogError):
    """The database is not laid out as any Odoo version deploylog knows: nothing is counted on it."""


@dataclass(frozen=True)
class Layout:
    """Which columns the Odoo tables have, from pg_catalog (whatever the role may read)."""

    columns: dict[str, frozenset[str]]

    def has_table(self, table: str) -> bool:
        return table in self.columns

    def has_column(self, table: str, column: str) -> bool:
        return column in self.columns.get(table, frozenset())

    def missing(self, wanted: Reads) -> list[str]:
        """table.column of `wanted` that this database lacks."""
        return [f"{t}.{c}" for t, cols in wanted.tables.items() for c in cols if not self.has_column(t, c)]


@dataclass(frozen=True)
class Version:
    """The Odoo release of the database, from the `base` module's latest_version (e.g. 18.0.1.3)."""

    latest_version: str
    major: int

    @property
    def label(self) -> str:
        return f"Odoo {self.major}.0 (base {self.latest_version})"


# The payment -> journal entry join: payments are counted from account_payment alone (Odoo 18's
# move_id may be NULL), the entry LEFT JOINed only where one of its columns is wanted.
PAYMENTS_WITH_ENTRY = "account_payment p LEFT JOIN account_move m ON m.id = p.move_id"
PAYMENTS_ALONE = "account_payment p"


@dataclass(frozen=True)
class PaymentLayout:
    """Where a payment's state, name and date live (`home`), and which states count as posted."""

    key: str  # "entry" (Odoo <=17) | "own" (Odoo 18+), recorded in the baseline
    versions: str
    short: str  # the log header's words
    summary: str
    home: str  # the table holding the payment's state, name and date: account_move (its entry) or account_payment
    posted_states: tuple[str, ...]
    signature: Reads  # the columns this layout must have (pg_catalog)

    @property
    def alias(self) -> str:
        return "m" if self.home == "account_move" else "p"

    @property
    def source(self) -> sql.Composable:
        """FROM clause of the payments (`p`), with their entry (`m`) when the payment's columns are the entry's."""
        from psycopg import sql

        return sql.SQL(PAYMENTS_WITH_ENTRY if self.alias == "m" else PAYMENTS_ALONE)

    def _column(self, name: str) -> sql.Composable:
        from psycopg import sql

        return sql.SQL(f"{self.alias}.{name}")  # constants of this module: SQL text, no identifier quoting

    @property
    def state(self) -> sql.Composable:
        return self._column("state")

    @property
    def name(self) -> sql.Composable:
        return self._column("name")

    @property
    def date(self) -> sql.Composable:
        return self._column("date")

    @property
    def state_column(self) -> str:
        return f"{self.home}.state"

    def posted(self) -> sql.Composable:
        """The "posted payment" condition of this layout."""
        from psycopg import sql

        return sql.SQL("{} IN ({})").format(self.state, sql.SQL(", ").join(map(sql.Literal, self.posted_states)))

    @property
    def reads(self) -> Reads:
        """What source, state, name and date read."""
        joined = Reads({"account_move": ("id",)}) if self.alias == "m" else Reads()
        return Reads({"account_payment": ("id", "move_id")}) + joined + Reads({self.home: ("state", "name", "date")})

    def describe(self) -> str:
        states = ", ".join(self.posted_states)
        return f"{self.versions} payment layout: {self.summary}; posted payments = {self.state_column} in ({states})"


# Odoo <=17: account.payment _inherits account.move; Odoo 18+: its own columns, the entry optional. The
# signatures name the entry's link back to the payment too: account_move.payment_id, renamed origin_payment_id.
PAYMENT_IS_ENTRY = PaymentLayout(
    key="entry",
    versions="Odoo <=17",
    short="payments are journal entries",
    summary="a payment is a journal entry (account_payment.move_id NOT NULL): its state, name and date are account_move's",
    home="account_move",
    posted_states=("posted",),
    signature=Reads({"account_payment": ("move_id",), "account_move": ("state", "name", "date", "payment_id")}),
)
PAYMENT_OWN = PaymentLayout(
    key="own",
    versions="Odoo 18+",
    short="payments with their own state, entry optional",
    summary="a payment has its own state, name and date (account_payment), its journal entry optional "
    "(account_payment.move_id may be NULL: payments counted from account_payment alone)",
    home="account_payment",
    posted_states=("in_process", "paid"),
    signature=Reads({"account_payment": ("state", "name", "date", "move_id"), "account_move": ("origin_payment_id",)}),
)


@dataclass(frozen=True)
class GroupLayout:
    """How a group is filed and how its members are counted."""

    key: str  # "category" (Odoo <=18) | "privilege" (Odoo 19+)
    versions: str
    short: str
    summary: str
    implied_computed: bool  # True: res_groups_users_rel holds direct memberships only
    signature: Reads

    def describe(self) -> str:
        return f"{self.versions} group layout: {self.summary}"


GROUPS_IN_CATEGORIES = GroupLayout(
    key="category",
    versions="Odoo <=18",
    short="groups in categories, implied memberships stored",
    summary="groups in module categories (res_groups.category_id); res_groups_users_rel holds every membership, "
    "implied ones included (Odoo writes them), so members are its rows",
    implied_computed=False,
    signature=Reads({"res_groups": ("category_id",)}),
)
GROUPS_UNDER_PRIVILEGES = GroupLayout(
    key="privilege",
    versions="Odoo 19+",
    short="groups under privileges, implied memberships computed",
    summary="groups under privileges (res_groups.privilege_id -> res_groups_privilege); res_groups_users_rel holds "
    "direct memberships only, so members include, recursively, those of the groups implying it (res_groups_implied_rel)",
    implied_computed=True,
    signature=Reads({"res_groups": ("privilege_id",), "res_groups_privilege": ("id",), "res_groups_implied_rel": ("gid", "hid")}),
)


@dataclass
class Figure:
    """A computed figure plus the SQL text that produced it."""

    values: dict[str, Any]
    queries: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def layout(snap: Snapshot) -> Layout:
    def read() -> Layout:
        found = snap.catalog.relations(LAYOUT_TABLES)
        return Layout({name: frozenset(rel.columns) for name, rel in found.items() if rel.exists})

    return snap.memo("layout", read)


MODULE_READS = Reads({"ir_module_module": ("name", "state", "latest_version")})
VERSION_QUERY = "SELECT latest_version FROM ir_module_module WHERE name = 'base'"
RELEASE = re.compile(r"^(\d+)\.0\.")


def version(snap: Snapshot) -> Version:
    """The database's Odoo release; LayoutError when it is not one deploylog knows."""

    def read() -> Version:
        row = snap.row(VERSION_QUERY)
        latest = row[0] if row else None
        if not latest:
            raise LayoutError(
                "ir_module_module has no 'base' module with a latest_version: the Odoo version cannot be read "
                "(is this an Odoo database?)"
            )
        found = RELEASE.match(latest)
        if not found or int(found.group(1)) not in KNOWN_MAJORS:
            known = ", ".join(map(str, KNOWN_MAJORS))
            raise LayoutError(
                f"base module latest_version {latest!r} is not a release deploylog knows (Odoo {known}): "
                "its payments and groups layout is unknown, nothing is counted on it"
            )
        return Version(latest, int(found.group(1)))

    return snap.memo("odoo_version", read, MODULE_READS)


def _checked(found: Layout, ver: Version, expected: PaymentLayout | GroupLayout, what: str, unknown: str) -> None:
    """Raise LayoutError when the database lacks a column the version's layout reads."""
    missing = found.missing(expected.signature)
    if missing:
        wanted = ", ".join(f"{t}.{c}" for t, cs in expected.signature.tables.items() for c in cs)
        raise LayoutError(
            f"unknown {what} layout on {ver.label}: {unknown or ', '.join(missing) + ' missing'}; "
            f"{expected.versions} expects {wanted}: deploylog counts nothing on a layout it does not know"
        )


def payment_layout(snap: Snapshot) -> PaymentLayout:
    """The payment layout of the database's version, confirmed column by column in pg_catalog."""

    def read() -> PaymentLayout:
        ver, found = version(snap), layout(snap)
        expected = PAYMENT_OWN if ver.major >= 18 else PAYMENT_IS_ENTRY
        neither = not found.has_column("account_payment", "state") and not (
            found.has_column("account_payment", "move_id") and found.has_column("account_move", "state")
        )
        unknown = "account_payment has neither state (Odoo 18+) nor move_id->account_move.state (Odoo <=17)" if neither else ""
        _checked(found, ver, expected, "payment", unknown)
        return expected

    return snap.memo("payment_layout", read)


def group_layout(snap: Snapshot) -> GroupLayout:
    """The group layout of the database's version, confirmed column by column in pg_catalog."""

    def read() -> GroupLayout:
        ver, found = version(snap), layout(snap)
        expected = GROUPS_UNDER_PRIVILEGES if ver.major >= 19 else GROUPS_IN_CATEGORIES
        neither = not found.has_column("res_groups", "category_id") and not found.has_column("res_groups", "privilege_id")
        unknown = "res_groups has neither privilege_id (Odoo 19+) nor category_id (Odoo <=18)" if neither else ""
        _checked(found, ver, expected, "group", unknown)
        return expected

    return snap.memo("group_layout", read)


def payment_fragments(snap: Snapshot) -> dict[str, sql.Composable]:
    """The payment layout's SQL fragments by name, for a query template (a protected set's definition).

    {payments}: the FROM clause (`p`, and its entry `m` where needed); {payment_state}, {payment_name},
    {payment_date}: the payment's own or its entry's columns; {posted_payment}: the posted condition.
    """
    pay = payment_layout(snap)
    return {
        "payments": pay.source,
        "payment_state": pay.state,
        "payment_name": pay.name,
        "payment_date": pay.date,
        "posted_payment": pay.posted(),
    }


def payment_note(snap: Snapshot) -> str:
    """The line an item whose SQL depends on the payment layout shows in its evidence."""
    return f"Schema: {version(snap).label}; {payment_layout(snap).describe()}"


def group_note(snap: Snapshot) -> str:
    return f"Schema: {version(snap).label}; {group_layout(snap).describe()}"


def layout_note(snap: Snapshot, reads: Reads) -> str:
    """The schema line for a query that reads `reads`: the payment layout's when it reads payments."""
    return payment_note(snap) if "account_payment" in reads.tables else ""


def _without_payments(snap: Snapshot) -> bool:
    try:
        return not layout(snap).has_table("account_payment")
    except DeploylogError:  # the catalogue unreadable: detection below says why
        return False


def describe(snap: Snapshot) -> str:
    """The log header's line: version and layouts as detected, or why they could not be (never raises)."""
    parts = []
    for what, detect in (("version", version), ("payments", payment_layout), ("groups", group_layout)):
        if what == "payments" and _without_payments(snap):
            parts.append("no account_payment (account not installed)")
            continue
        try:
            found = detect(snap)
        except DeploylogError as exc:
            parts.append(f"{what}: NOT DETECTED ({exc})")
            if what == "version":
                break
            continue
        parts.append(found.label if isinstance(found, Version) else f"{found.short} ({found.versions})")
    return "; ".join(parts)


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


def module_states(snap: Snapshot, modules: Iterable[str]) -> dict[str, str]:
    """name -> state in ir_module_module, for the modules of `modules` it lists."""
    wanted = sorted(set(modules))
    query = "SELECT name, state FROM ir_module_module WHERE name = ANY(%s)"
    return dict(snap.memo("module_states:" + ",".join(wanted), lambda: dict(snap.rows(query, (wanted,))), MODULE_READS))


def payment_distribution(snap: Snapshot, spec: Spec) -> Figure:
    """Payments by state (the version's state column) and approval_state, with the totals 0.1 and 5.1 need.

    Counted from account_payment alone: on Odoo 18 a payment without a journal
    entry is a payment too.
    """
    from psycopg import sql

    pay = payment_layout(snap)
    lay = layout(snap)
    has_approval = lay.has_column("account_payment", "approval_state")

    def read() -> Figure:
        approval = sql.SQL("p.approval_state") if has_approval else sql.SQL("NULL::varchar")
        query = sql.SQL(
            """SELECT {state} AS state, {approval} AS approval_state, count(*),
                      count(*) FILTER (WHERE p.is_reconciled)
               FROM {payments}
               GROUP BY 1, 2 ORDER BY 1, 2"""
        ).format(state=pay.state, approval=approval, payments=pay.source)
        rows = snap.rows(query)
        by_state: dict[str, int] = {}
        by_approval: dict[str, int] = {}
        for state, appr, count, _ in rows:
            key = state if state is not None else "NULL"
            by_state[key] = by_state.get(key, 0) + count
            key = appr if appr is not None else "NULL"
            by_approval[key] = by_approval.get(key, 0) + count
        values = {
            "total": sum(r[2] for r in rows),
            "posted": sum(by_state.get(s, 0) for s in pay.posted_states),
            "posted_states": list(pay.posted_states),
            "by_state": by_state,
            "by_approval_state": by_approval,
            "null_approval_state": by_approval.get("NULL", 0) if has_approval else None,
            "approval_state_column": has_approval,
            "reconciled_odoo": sum(r[3] for r in rows),
            "state_column": pay.state_column,
            "payment_layout": pay.key,
            "odoo_version": version(snap).latest_version,
        }
        return Figure(values, [snap.text(query)])

    return snap.memo("payments", read, _payment_reads(pay, lay))


def _payment_reads(pay: PaymentLayout, lay: Layout) -> Reads:
    approval = ("approval_state",) if lay.has_column("account_payment", "approval_state") else ()
    return pay.reads + Reads({"account_payment": ("is_reconciled", *approval)})


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

    cfg = spec.reconciliation
    if cfg is None:
        return "deploy.toml has no [reconciliation]"

    def read() -> str:
        assert cfg is not None
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
    cfg = given(spec.reconciliation, "reconciliation")
    header = {cfg.reconciliation_table: ("id",)} if cfg.reconciliation_table else {}
    return Reads({cfg.table: (cfg.move_column, cfg.reconciliation_column), "account_move": ("id",), **header})


def reconciliation_lines(snap: Snapshot, spec: Spec) -> Figure:
    """Line counts of the configured reconciliation table; values['present'] False when optional and absent."""
    from psycopg import sql

    absent = reconciliation_absent(snap, spec)
    if absent:
        return Figure({"present": False, "reason": absent})
    cfg = given(spec.reconciliation, "reconciliation")

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
    from psycopg import sql

    def read() -> Figure:
        payments = payment_distribution(snap, spec)
        values: dict[str, Any] = {"odoo_is_reconciled": payments["reconciled_odoo"]}
        queries = ["-- odoo_is_reconciled from: " + payments.queries[0]]
        recon = reconciliation_lines(snap, spec)
        if recon["present"]:
            cfg = given(spec.reconciliation, "reconciliation")
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


# Odoo <=18: the rows of res_groups_users_rel (Odoo writes the implied memberships there too).
STORED_MEMBERS_SQL = """SELECT r.gid, count(u.id) FILTER (WHERE u.active), count(u.id) FILTER (WHERE NOT u.active),
                      coalesce(array_agg(u.login ORDER BY u.login) FILTER (WHERE u.active), '{}'), 0
               FROM res_groups_users_rel r JOIN res_users u ON u.id = r.uid
               WHERE r.gid = ANY(%s) GROUP BY 1"""
# Odoo 19: direct members, and (recursively) the members of every group implying the group.
IMPLIED_MEMBERS_SQL = """WITH RECURSIVE granting(target, gid) AS (
                   SELECT t, t FROM unnest(%s::int[]) AS t
                   UNION SELECT g.target, i.gid FROM granting g JOIN res_groups_implied_rel i ON i.hid = g.gid)
               SELECT g.target, count(DISTINCT u.id) FILTER (WHERE u.active), count(DISTINCT u.id) FILTER (WHERE NOT u.active),
                      coalesce(array_agg(DISTINCT u.login ORDER BY u.login) FILTER (WHERE u.active), '{}'),
                      count(DISTINCT u.id) FILTER (WHERE u.active) - count(DISTINCT u.id) FILTER (WHERE u.active AND r.gid = g.target)
               FROM granting g JOIN res_groups_users_rel r ON r.gid = g.gid JOIN res_users u ON u.id = r.uid
               GROUP BY 1"""


def _member_reads(grp: GroupLayout) -> Reads:
    implied = Reads({"res_groups_implied_rel": ("gid", "hid")}) if grp.implied_computed else Reads()
    return MEMBER_READS + implied


def group_members(snap: Snapshot, xmlids: Iterable[str]) -> Figure:
    """The groups (resolved by `groups`) with their members, counted among active users only.

    Membership as the database's Odoo version grants it (group_layout):
    `through_implied` counts the active members who are members only through
    a group implying this one (always 0 where Odoo stores those memberships).
    """
    grp = group_layout(snap)
    resolved = groups(snap, xmlids)
    ids = sorted(g["id"] for g in resolved.values.values() if g["exists"])
    query = IMPLIED_MEMBERS_SQL if grp.implied_computed else STORED_MEMBERS_SQL

    def read() -> Figure:
        members = {row[0]: row[1:] for row in snap.rows(query, (ids,))}
        values = {}
        for xmlid, g in resolved.values.items():
            active, inactive, logins, implied = members.get(g["id"], (0, 0, [], 0))
            values[xmlid] = {
                **g,
                "active_members": active,
                "inactive_members": inactive,
                "logins": list(logins),
                "through_implied": implied,
            }
        return Figure(values, [*resolved.queries, snap.shown(query, (ids,))])

    return snap.memo("members:" + ",".join(str(i) for i in ids), read, _member_reads(grp))


def workflow_window(snap: Snapshot, spec: Spec) -> Figure:
    """4.5: approval_state of payments created in the last N days, and the anomalies.

    "Posted" is the version's (payment_layout): an entry in 'posted' up to Odoo
    17, a payment 'in_process' or 'paid' from Odoo 18.
    """
    from psycopg import sql

    lay = layout(snap)
    if not lay.has_column("account_payment", "approval_state"):
        return Figure({"present": False, "reason": "account_payment.approval_state does not exist (module not installed?)"})
    pay = payment_layout(snap)
    query = sql.SQL(
        """SELECT p.approval_state, coalesce({posted}, false) AS posted, count(*)
           FROM {payments}
           WHERE p.create_date >= (now() AT TIME ZONE 'UTC') - make_interval(days => %s)
           GROUP BY 1, 2 ORDER BY 1, 2"""
    ).format(posted=pay.posted(), payments=pay.source)
    days = spec.thresholds.workflow_window_days

    def read() -> Figure:
        rows = snap.rows(query, (days,))
        allowed = set(given(spec.approval, "approval").payment_states)
        distribution: dict[str, int] = {}
        null_count = unknown = posted_not_approved = approved_not_posted = 0
        unknown_values: set[str] = set()
        for approval, posted, count in rows:
            key = approval if approval is not None else "NULL"
            distribution[key] = distribution.get(key, 0) + count
            if approval is None:
                null_count += count
            elif approval not in allowed:
                unknown += count
                unknown_values.add(approval)
            if posted and approval not in (None, "posted"):
                posted_not_approved += count
            if approval == "posted" and not posted:
                approved_not_posted += count
        values = {
            "present": True,
            "window_days": days,
            "total": sum(distribution.values()),
            "distribution": distribution,
            "null": null_count,
            "unknown": unknown,
            "unknown_values": sorted(unknown_values),
            "posted_states": list(pay.posted_states),
            "posted_entry_not_posted_state": posted_not_approved,
            "posted_state_entry_not_posted": approved_not_posted,
        }
        return Figure(values, [snap.shown(query, (days,))])

    return snap.memo("workflow_window", read, _workflow_reads(pay))


def _workflow_reads(pay: PaymentLayout) -> Reads:
    return pay.reads + Reads({"account_payment": ("approval_state", "create_date")})


# What click-odoo-update (acsone/click-odoo-contrib, update.py) keeps in the database.
INSTALLED_CHECKSUMS_KEY = "module_auto_update.installed_checksums"
EXCLUDE_PATTERNS_KEY = "module_auto_update.exclude_patterns"
CHECKSUM_READS = Reads({"ir_config_parameter": ("key", "value"), "res_lang": ("code", "active")})
PARAMETERS_SQL = "SELECT key, value FROM ir_config_parameter WHERE key = ANY(%s)"
ACTIVE_LANGUAGES_SQL = "SELECT code FROM res_lang WHERE active ORDER BY code"


def recorded_checksums(snap: Snapshot) -> Figure:
    """The addon checksums click-odoo-update recorded after its last upgrade, and the rules it hashed with.

    values: present (the key exists), checksums {module: sha1 hex, or False
    where the addon folder was not found}, exclude_patterns (the parameter's
    value, None when unset), languages (active res_lang codes: .po files of
    other languages are not hashed).
    """
    keys = [INSTALLED_CHECKSUMS_KEY, EXCLUDE_PATTERNS_KEY]

    def read() -> Figure:
        params = dict(snap.rows(PARAMETERS_SQL, (keys,)))
        queries = [snap.shown(PARAMETERS_SQL, (keys,))]
        raw = params.get(INSTALLED_CHECKSUMS_KEY)
        if raw is None:
            return Figure({"present": False, "checksums": {}, "exclude_patterns": None, "languages": []}, queries)
        try:
            checksums = json.loads(raw) if raw else {}
        except ValueError as exc:
            raise DeploylogError(f"ir_config_parameter {INSTALLED_CHECKSUMS_KEY} is not JSON ({exc}): it cannot be compared") from None
        if not isinstance(checksums, dict):
            raise DeploylogError(f"ir_config_parameter {INSTALLED_CHECKSUMS_KEY} is not a JSON object of module -> checksum")
        languages = [r[0] for r in snap.rows(ACTIVE_LANGUAGES_SQL)]
        queries.append(ACTIVE_LANGUAGES_SQL)
        exclude = params.get(EXCLUDE_PATTERNS_KEY)
        return Figure({"present": True, "checksums": checksums, "exclude_patterns": exclude, "languages": languages}, queries)

    return snap.memo("recorded_checksums", read, CHECKSUM_READS)


# What the figures of each built-in item read, by name (P.7 checks the union over the runbook's items).
# 0.3 records the module and the database's identity; the protected sets it records, and phase 5
# compares, read what their [[protect]] entries declare (protect.rows: preflight adds them).
ITEM_FIGURES: dict[str, tuple[str, ...]] = {
    "P.6": ("members",),
    "0.1": ("payments", "invoices"),
    "0.2": ("reconciliation",),
    "0.3": ("module", "identity"),
    "0.4": ("members",),
    "4.1": ("module",),
    "4.2": ("groups",),
    "4.3": ("groups",),
    "4.4": ("groups",),
    "4.5": ("workflow",),
    "4.6": ("members",),
    "4.7": ("reconciliation",),
    "4.9": ("checksums",),
}
# Figures whose reads do not depend on the database's layout or the configuration.
FIXED_READS: dict[str, Reads] = {
    "module": MODULE_READS,
    "identity": IDENTITY_READS,
    "groups": GROUP_READS,
    "invoices": INVOICE_READS,
    "checksums": CHECKSUM_READS,
}

DetectedT = TypeVar("DetectedT", PaymentLayout, GroupLayout)


def _detected(snap: Snapshot, detect: Callable[[Snapshot], DetectedT], assumed: DetectedT, errors: list[str]) -> DetectedT:
    """The layout as detected; the one the columns suggest when the version cannot be read (no privilege on
    ir_module_module: MODULE_READS lists that GRANT); a layout deploylog does not know is listed in `errors`."""
    try:
        return detect(snap)
    except PrivilegeError:
        return assumed
    except DeploylogError as exc:
        errors.append(str(exc))
        return assumed


def every_read(snap: Snapshot, spec: Spec, items: Iterable[str]) -> tuple[Reads, list[str]]:
    """What the figures of the runbook's `items` read (P.7 checks it a day ahead), and the configuration errors met on the way.

    Only what those items read: a deployment whose runbook holds no payment item is
    asked for no payment table. The version (ir_module_module) is always read. The
    reconciliation tables count only when present (or misconfigured: then the error
    is listed); the [[protect]] sets' reads are their own (protect.rows: preflight adds them).
    """
    wanted = {"module", *(name for item in items for name in ITEM_FIGURES.get(item, ()))}
    found = layout(snap)
    errors: list[str] = []
    reads = Reads()
    if wanted & {"payments", "workflow"}:
        own_state = found.has_column("account_payment", "state")
        pay = _detected(snap, payment_layout, PAYMENT_OWN if own_state else PAYMENT_IS_ENTRY, errors)
        if "payments" in wanted:
            reads = reads + _payment_reads(pay, found)
        if "workflow" in wanted and found.has_column("account_payment", "approval_state"):
            reads = reads + _workflow_reads(pay)  # 4.5 says itself when the column is absent
    if "members" in wanted:
        privileges = found.has_column("res_groups", "privilege_id")
        grp = _detected(snap, group_layout, GROUPS_UNDER_PRIVILEGES if privileges else GROUPS_IN_CATEGORIES, errors)
        reads = reads + GROUP_READS + _member_reads(grp)
    for name, fixed in FIXED_READS.items():
        if name in wanted:
            reads = reads + fixed
    if "reconciliation" in wanted:
        try:
            if not reconciliation_absent(snap, spec):
                reads = reads + _reconciliation_reads(spec)
        except DeploylogError as exc:
            errors.append(str(exc))
    return reads, list(dict.fromkeys(errors))


def modules_state(snap: Snapshot, modules: Iterable[str]) -> Figure:
    """Each module's row in ir_module_module, in one query: name -> {found, state, latest_version[, similar]}.

    A module without a row carries the names it may have meant (`similar`), read once for all.
    """
    wanted = sorted(set(modules))
    query = "SELECT name, state, latest_version FROM ir_module_module WHERE name = ANY(%s) ORDER BY name"
    names = "SELECT name FROM ir_module_module"

    def read() -> Figure:
        found = {name: (state, latest) for name, state, latest in snap.rows(query, (wanted,))}
        values: dict[str, Any] = {}
        queries = [snap.shown(query, (wanted,))]
        missing = [m for m in wanted if m not in found]
        known = [r[0] for r in snap.rows(names)] if missing else []
        if missing:
            queries.append(names)
        for name in wanted:
            state, latest = found.get(name, (None, None))
            values[name] = {"found": name in found, "state": state, "latest_version": latest}
            if name not in found:
                values[name]["similar"] = close_matches(name, known)
        return Figure(values, queries)

    return snap.memo("modules:" + ",".join(wanted), read, MODULE_READS)


# Odoo marks a module for an operation (Apps: Install/Upgrade/Uninstall, `-i`/`-u`) and applies every marked one at the
# next registry load; one left marked afterwards was not applied, and Odoo may keep serving without it.
PENDING_STATES = ("to upgrade", "to install", "to remove")


def pending_modules(snap: Snapshot) -> Figure:
    """Every module of the database left in a pending state: {"pending": {name: state}}."""
    query = "SELECT name, state FROM ir_module_module WHERE state = ANY(%s) ORDER BY name"
    states = list(PENDING_STATES)

    def read() -> Figure:
        return Figure({"pending": dict(snap.rows(query, (states,)))}, [snap.shown(query, (states,))])

    return snap.memo("pending_modules", read, MODULE_READS)
