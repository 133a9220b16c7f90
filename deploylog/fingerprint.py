"""Fingerprints of the protected row sets: counts can match while data changed.

Each set is a query yielding (id, row hash), the hash computed in SQL over the
row's key columns (md5 of ROW(...)::text, which tells NULL from ''). The
fingerprint is a per-bucket digest (bucket = id >> 10) aggregated in SQL, so a
post-deploy comparison moves a few kilobytes, not the rows. The baseline also
keeps the (id, hash) pairs in a side file, streamed with COPY, so a changed
bucket can be narrowed down to the row ids that changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import sql

from deploylog import odoo
from deploylog.access import Reads
from deploylog.db import Snapshot
from deploylog.spec import Spec, given

BUCKET_SHIFT = 10
SETS = ("payments", "posted_invoices", "reconciliation_lines", "reconciled_payments")


def protected_set(name: str, snap: Snapshot, spec: Spec) -> tuple[sql.Composed, Reads] | None:
    """(SELECT id, h, what it reads) for one protected set; None when the set cannot exist here (optional, absent).

    The payment sets are written with the version's fragments (odoo.payment_layout):
    counted from account_payment alone, the payment's own state, name and date
    from Odoo 18 on, its journal entry's up to Odoo 17 (where the expression is
    the one of earlier releases: a baseline taken with them still compares).
    """
    if name == "payments":
        query = sql.SQL(
            """SELECT p.id, left(md5(ROW(p.id, p.move_id, p.amount, p.payment_type, p.partner_type, p.partner_id,
                      p.currency_id, {payment_state}, {payment_date}, {payment_name})::text), 16) AS h
               FROM {payments}"""
        ).format(**odoo.payment_fragments(snap))
        columns = ("id", "amount", "payment_type", "partner_type", "partner_id", "currency_id")
        return query, odoo.payment_layout(snap).reads + Reads({"account_payment": columns})
    if name == "posted_invoices":
        query = sql.SQL(
            """SELECT m.id, left(md5(ROW(m.id, m.name, m.move_type, m.state, m.date, m.partner_id,
                      m.amount_total, m.currency_id)::text), 16) AS h
               FROM account_move m WHERE m.state = 'posted' AND m.move_type = ANY({types})"""
        ).format(types=sql.Literal(list(spec.invoices.move_types)))
        return query, Reads(
            {"account_move": ("id", "name", "move_type", "state", "date", "partner_id", "amount_total", "currency_id")}
        )
    if name == "reconciliation_lines":
        if odoo.reconciliation_absent(snap, spec):
            return None
        cfg = given(spec.reconciliation, "reconciliation")
        query = sql.SQL("SELECT l.id, left(md5(ROW(l.id, l.{mc}, l.{rc})::text), 16) AS h FROM {t} l").format(
            t=sql.Identifier(cfg.table),
            mc=sql.Identifier(cfg.move_column),
            rc=sql.Identifier(cfg.reconciliation_column),
        )
        return query, Reads({cfg.table: ("id", cfg.move_column, cfg.reconciliation_column)})
    if name == "reconciled_payments":
        in_recon: sql.Composable = sql.SQL("false")
        reads = odoo.payment_layout(snap).reads + Reads({"account_payment": ("id", "amount", "is_reconciled")})
        if not odoo.reconciliation_absent(snap, spec):
            cfg = given(spec.reconciliation, "reconciliation")
            in_recon = sql.SQL("EXISTS (SELECT 1 FROM {t} l WHERE l.{mc} = p.move_id)").format(
                t=sql.Identifier(cfg.table), mc=sql.Identifier(cfg.move_column)
            )
            reads = reads + Reads({cfg.table: (cfg.move_column,)})
        query = sql.SQL(
            """SELECT p.id, left(md5(ROW(p.id, p.amount, {payment_state}, p.move_id, p.is_reconciled, {in_recon})::text), 16) AS h
               FROM {payments}
               WHERE p.is_reconciled OR {in_recon}"""
        ).format(in_recon=in_recon, **odoo.payment_fragments(snap))
        return query, reads
    raise KeyError(name)


def set_query(name: str, snap: Snapshot, spec: Spec) -> sql.Composed | None:
    """SELECT id, h for one protected set; None when the set cannot exist here."""
    found = protected_set(name, snap, spec)
    return found[0] if found else None


@dataclass
class Fingerprint:
    count: int
    digest: str
    buckets: dict[str, list[Any]]  # bucket -> [count, digest]
    query: str

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "digest": self.digest, "buckets": self.buckets, "query": self.query}


def _digest(buckets: dict[str, list[Any]]) -> str:
    text = "".join(f"{b}:{c}:{d}\n" for b, (c, d) in sorted(buckets.items(), key=lambda kv: int(kv[0])))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def compute(snap: Snapshot, spec: Spec, name: str) -> Fingerprint | None:
    """Per-bucket counts and digests of one set, aggregated in SQL."""
    found = protected_set(name, snap, spec)
    if found is None:
        return None
    query = _bucket_query(found[0])

    def read() -> Fingerprint:
        buckets = {str(b): [c, d] for b, c, d in snap.rows(query)}
        return Fingerprint(sum(c for c, _ in buckets.values()), _digest(buckets), buckets, snap.text(query))

    return snap.memo(f"fingerprint:{name}", read, found[1])


def _bucket_query(base: sql.Composed) -> sql.Composed:
    return sql.SQL("SELECT s.id >> {shift}, count(*), md5(string_agg(s.h, '' ORDER BY s.id)) FROM ({base}) s GROUP BY 1").format(
        shift=sql.Literal(BUCKET_SHIFT), base=base
    )


def export_rows(snap: Snapshot, spec: Spec, name: str, path: Path) -> str:
    """Write (id, hash) of a set into `path`, one tab-separated line per row in id order; returns the file's sha256.

    One pass, one message per bucket: each result row carries a bucket's
    count, its digest (exactly the expression of compute()) and its lines,
    aggregated in SQL and streamed, so neither the rows nor a per-row
    protocol message reach Python, and the bucket digests are memoised: a
    baseline reads each set once, not twice. A fingerprint already computed
    in this snapshot is kept as it is.
    """
    found = protected_set(name, snap, spec)
    assert found is not None
    base, reads = found
    query = sql.SQL(
        """SELECT s.id >> {shift}, count(*), md5(string_agg(s.h, '' ORDER BY s.id)),
                  string_agg(s.id::text || E'\\t' || s.h || E'\\n', '' ORDER BY s.id)
           FROM ({base}) s GROUP BY 1 ORDER BY 1"""
    ).format(shift=sql.Literal(BUCKET_SHIFT), base=base)

    def stream() -> tuple[str, Fingerprint]:
        digest = hashlib.sha256()
        snap.round_trips += 1
        snap.log.append(snap.text(query))
        buckets: dict[str, list[Any]] = {}
        with path.open("wb") as out:
            for bucket, count, bucket_digest, lines in snap.conn.cursor().stream(query):
                data = lines.encode()
                digest.update(data)
                out.write(data)
                buckets[str(bucket)] = [count, bucket_digest]
        fp = Fingerprint(sum(c for c, _ in buckets.values()), _digest(buckets), buckets, snap.text(_bucket_query(base)))
        return "sha256:" + digest.hexdigest(), fp

    rows_sha256, fp = snap.memo(f"rows:{name}", stream, reads)
    snap.memo(f"fingerprint:{name}", lambda: fp)
    return str(rows_sha256)


def _rows_in(path: Path, buckets: set[int]) -> Iterator[tuple[int, str]]:
    with path.open() as fh:
        for line in fh:
            row_id, row_hash = line.rstrip("\n").split("\t")
            if int(row_id) >> BUCKET_SHIFT in buckets:
                yield int(row_id), row_hash


@dataclass
class Diff:
    added: list[int]
    removed: list[int]
    changed: list[int]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff(snap: Snapshot, spec: Spec, name: str, before: dict[str, Any], rows_file: Path | None) -> Diff | None:
    """Row ids that differ between the baseline fingerprint and now; None when the set is unchanged."""
    now = compute(snap, spec, name)
    assert now is not None
    if now.digest == before["digest"]:
        return None
    old_buckets = before["buckets"]
    changed_buckets = {int(b) for b in set(old_buckets) | set(now.buckets) if old_buckets.get(b) != now.buckets.get(b)}
    if rows_file is None or not rows_file.exists():
        return Diff([], [], [])
    found = protected_set(name, snap, spec)
    assert found is not None
    query = sql.SQL("SELECT s.id, s.h FROM ({base}) s WHERE s.id >> {shift} = ANY(%s)").format(
        base=found[0], shift=sql.Literal(BUCKET_SHIFT)
    )
    buckets = sorted(changed_buckets)
    current = dict(snap.memo(f"diff:{name}", lambda: snap.rows(query, (buckets,)), found[1]))
    old = dict(_rows_in(rows_file, changed_buckets))
    return Diff(
        added=sorted(set(current) - set(old)),
        removed=sorted(set(old) - set(current)),
        changed=sorted(i for i in set(old) & set(current) if old[i] != current[i]),
    )
