"""What the database says about a deployment: its name, its Odoo version, the module's row and groups.

Read the way every check reads: one read-only connection (deploylog/db.py: read-only
session, statement and lock timeouts), one snapshot, each figure in its own savepoint
after the tables it reads are checked for existence and privilege.
"""

from __future__ import annotations

from dataclasses import dataclass

from deploylog import db, odoo
from deploylog import spec as spec_mod
from deploylog.access import Relation
from deploylog.errors import DeploylogError

# The group every Odoo database has, named when the module has no group of its own: the administrators.
ADMIN_GROUP = "base.group_system"
GROUPS_SQL = """SELECT d.module || '.' || d.name, g.name->>'en_US'
                FROM ir_model_data d JOIN res_groups g ON g.id = d.res_id
                WHERE d.model = 'res.groups' AND (d.module = %s OR d.module || '.' || d.name = %s)
                ORDER BY 1"""
# The template's payment-specific tables: their sections are written only for a database that has them.
RECONCILIATION_TABLES = ("account_bank_reconciliation_line", "account_bank_reconciliation")
APPROVAL_TABLES = ("account_payment", "account_move")
INSTALLED_STATES = ("installed", "to upgrade", "to remove")


@dataclass(frozen=True)
class Group:
    xmlid: str
    name: str


@dataclass(frozen=True)
class DatabaseFacts:
    name: str  # current_database() of the connection
    server_version: str
    odoo: odoo.Version
    module_state: str | None  # None: the module has no row in ir_module_module
    module_version: str | None  # its latest_version
    similar_modules: tuple[str, ...]  # when it has no row: the names it may have meant
    groups: tuple[Group, ...]  # the module's groups, by XML id
    admin_group: Group | None  # base.group_system, when the database has it
    reconciliation_tables: bool  # the template's reconciliation tables exist
    approval_columns: bool  # account_payment and account_move have the template's approval_state

    @property
    def module_installed(self) -> bool:
        return self.module_state in INSTALLED_STATES


def _settings(dsn: str, database: str) -> spec_mod.Spec:
    """The smallest Spec db.connect takes: the connection's settings, defaults for the rest."""
    return spec_mod.build({"deployment": {"module": "init", "expected_version": "0"}, "database": {"name": database, "dsn": dsn}})


def _relations(snap: db.Snapshot) -> dict[str, Relation]:
    wanted = (*RECONCILIATION_TABLES, *APPROVAL_TABLES)
    return snap.memo("init:relations", lambda: snap.catalog.relations(wanted))


def read(dsn: str, database: str, module: str) -> DatabaseFacts:
    """The facts of `module` in the database `dsn` reaches; `database` (when given) must be the one it reaches."""
    settings = _settings(dsn, database)
    snap = db.Snapshot(db.connect(settings), settings=settings.database)
    try:
        identity = snap.identity()
        if database and identity.database != database:
            raise DeploylogError(
                f"connected to database {identity.database!r} but --database names {database!r}: "
                "refusing to describe the wrong database"
            )
        version = odoo.version(snap)
        row = odoo.module_state(snap, module)
        found = snap.memo(
            "init:groups",
            lambda: [Group(xmlid, name or "") for xmlid, name in snap.rows(GROUPS_SQL, (module, ADMIN_GROUP))],
            odoo.GROUP_READS,
        )
        tables = _relations(snap)
    finally:
        snap.close()
    approval = all(tables[t].exists and "approval_state" in tables[t].columns for t in APPROVAL_TABLES)
    return DatabaseFacts(
        name=identity.database,
        server_version=identity.server_version,
        odoo=version,
        module_state=row["state"],
        module_version=row["latest_version"],
        similar_modules=tuple(row.values.get("similar", ())),
        groups=tuple(g for g in found if g.xmlid.startswith(f"{module}.")),
        admin_group=next((g for g in found if g.xmlid == ADMIN_GROUP), None),
        reconciliation_tables=all(tables[t].exists for t in RECONCILIATION_TABLES),
        approval_columns=approval,
    )
