"""The [[protect]] sets of deploy.toml on one database: their rows as SQL, what they read, the items they feed.

A set's rows are the entry's `table` (with `columns`, `join`, `where`) or its
`query`, with the `{name}` fragments resolved for the database's Odoo version
(odoo.payment_fragments) and deploy.toml's [reconciliation] section. The rows
are always `SELECT id, <hashed columns...>`; fingerprint.py hashes and counts
them. A set that reads a table this database lacks is *absent*: N/A when the
entry says `optional = true`, an error naming the entry otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deploylog import catalogue, fragments, odoo
from deploylog.access import Reads, did_you_mean
from deploylog.db import Snapshot
from deploylog.errors import MissingObjectError
from deploylog.spec import IDENTIFIER, PROTECT_ORIGIN, Protect, Spec, given, query_parameters

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    import psycopg
    from psycopg import sql

ORIGIN = PROTECT_ORIGIN
# 42P01 is also "missing FROM-clause entry": only this message names a relation that does not exist
MISSING_RELATION = re.compile(r'^relation "(?P<name>[^"]+)" does not exist')


class AbsentTableError(MissingObjectError):
    """A table a required set reads does not exist (not a misspelt name: nothing close to it exists)."""


def label(entry: Protect) -> str:
    """How errors and evidence name an entry."""
    return f"[[protect]] {entry.name}"


# ------------------------------------------------------------------ the items the sets feed


def items(spec: Spec) -> dict[str, list[Protect]]:
    """item id -> the sets feeding it, in the log's order."""
    grouped: dict[str, list[Protect]] = {}
    for entry in spec.protect:
        grouped.setdefault(entry.item, []).append(entry)
    order = list(catalogue.merged(definitions(spec).values()))
    return {item_id: grouped[item_id] for item_id in order if item_id in grouped}


def definition(entry: Protect) -> catalogue.Item:
    """The item a set feeds, as its entry defines it (validated with the spec: all its sets agree)."""
    return catalogue.define(entry.item, entry.title, entry.expected_text, entry.severity, "", ORIGIN)


def definitions(spec: Spec) -> dict[str, catalogue.Item]:
    """item id -> its definition, for every item a [[protect]] entry feeds."""
    return {entry.item: definition(entry) for entry in spec.protect}


# ------------------------------------------------------------------ a set's rows on this database


@dataclass(frozen=True)
class Rows:
    """One set as this database reads it: `SELECT id, <hashed...>` (None when absent) and its parameters."""

    entry: Protect
    select: sql.Composed | None
    params: dict[str, Any] | None
    reads: Reads
    counts: tuple[tuple[str, sql.Composable], ...] = ()  # (name, boolean expression over the rows' columns)
    absent: str = ""  # why the set cannot be read here (a table it reads does not exist; optional)
    note: str = ""  # the schema line of the fragments it used (the payment layout)


def params_of(entry: Protect, spec: Spec) -> dict[str, Any] | None:
    """The values of the named parameters the entry's SQL uses (None when it uses none: a % then stays as written)."""
    used = [name for text in entry.templates.values() for name in query_parameters(text)]
    if not used:
        return None
    available = {**spec.query_params, **entry.params}
    return {name: available[name] for name in used}


class _Resolver:
    """Turns an entry's templates into SQL, collecting what its fragments read and whether a table is absent."""

    def __init__(self, snap: Snapshot, spec: Spec, entry: Protect) -> None:
        self.snap, self.spec, self.entry = snap, spec, entry
        self.reads = Reads()
        self.absent = ""
        self.note = ""

    def fragment(self, name: str) -> sql.Composable:
        from psycopg import sql

        if name in fragments.PAYMENT:
            self.reads = self.reads + odoo.payment_layout(self.snap).reads
            self.note = odoo.payment_note(self.snap)
            return odoo.payment_fragments(self.snap)[name]
        cfg = given(self.spec.reconciliation, "reconciliation")  # the spec refuses the fragment without it
        # a misspelt or misconfigured [reconciliation] raises here (an error naming its key, even when optional)
        why = odoo.reconciliation_absent(self.snap, self.spec)
        if why:
            self.absent = self.absent or why
        key = name.split(".", 1)[1]
        value = str(getattr(cfg, key))
        if key in ("table", "reconciliation_table"):
            self.reads = self.reads + Reads({value: ()}) if not why else self.reads
        elif not why:
            self.reads = self.reads + Reads({cfg.table: (value,)})
        return sql.Identifier(value)

    def render(self, text: str) -> sql.Composed:
        from psycopg import sql

        return sql.Composed([sql.SQL(p) if isinstance(p, str) else self.fragment(p.name) for p in fragments.parse(text)])

    def table(self, name: str) -> sql.Composable:
        from psycopg import sql

        if name.startswith("{"):
            return self.render(name)
        rel = self.snap.catalog.relation(name)
        if not rel.exists and not rel.hidden_in:  # hidden in a schema without USAGE: a privilege error when read
            close = self.snap.catalog.similar_tables(name)
            if close:
                raise MissingObjectError(
                    f"{label(self.entry)}: table = {name!r} is not a table of this database{did_you_mean(close)}: "
                    "a misspelt name is an error, never an absent optional table"
                )
            self.absent = self.absent or f"table {name} does not exist in this database"
        return sql.Identifier(name)


def rows(snap: Snapshot, spec: Spec, entry: Protect) -> Rows:
    """The set's rows on this database; MissingObjectError naming the entry when a table it needs is absent
    and the entry is not optional (or the name is a typo)."""
    from psycopg import sql

    resolver = _Resolver(snap, spec, entry)
    select: sql.Composed
    if entry.query:
        select = resolver.render(entry.query.strip().rstrip(";"))
    else:
        source = resolver.table(entry.table)
        plain = [c for c in entry.columns if IDENTIFIER.match(c)]
        columns = [sql.SQL("t.{}").format(sql.Identifier(c)) if IDENTIFIER.match(c) else resolver.render(c) for c in entry.columns]
        select = sql.SQL("SELECT {id}{columns} FROM {source} t{join}{where}").format(
            id=sql.SQL("t.{}").format(sql.Identifier(entry.id)),
            columns=sql.SQL("").join(sql.SQL(", ") + c for c in columns),
            source=source,
            join=sql.SQL(" ") + resolver.render(entry.join) if entry.join else sql.SQL(""),
            where=sql.SQL(" WHERE ") + resolver.render(entry.where) if entry.where else sql.SQL(""),
        )
        if not entry.table.startswith("{") and not resolver.absent:
            resolver.reads = resolver.reads + Reads({entry.table: (entry.id, *plain)})
    counts = tuple((name, resolver.render(expression)) for name, expression in entry.counts.items())
    if resolver.absent:
        return Rows(entry, None, None, Reads(), absent=absent_reason(entry, resolver.absent), note=resolver.note)
    return Rows(entry, select, params_of(entry, spec), resolver.reads, counts, note=resolver.note)


def absent_reason(entry: Protect, why: str) -> str:
    """The N/A reason of an optional set; AbsentTableError naming the entry when it is not optional."""
    if entry.optional:
        return f"{why} ({label(entry)} is optional = true)"
    raise AbsentTableError(
        f"{label(entry)}: {why}: name a table this database has, or set optional = true in the entry if the set may be absent here"
    )


def missing_relation(exc: psycopg.Error) -> str:
    """The relation an 'undefined table' error names ('' for any other error)."""
    import psycopg

    if not isinstance(exc, psycopg.errors.UndefinedTable):
        return ""
    found = MISSING_RELATION.match(exc.diag.message_primary or "")
    return found.group("name") if found else ""
