"""Waivers, in Chef InSpec's manner: a failure accepted in advance, with a justification, an approver and an expiry.

The waivers file is named in deploy.toml (`[waivers] file`). Each `[[waivers]]`
entry names an item; while it is in force (up to and including its `expires`
date, UTC) a FAIL or ERROR of that item is WAIVED: it shows, with its
justification and approver, in every format, and fails neither its phase nor
the overall status. `run = false` does not run the item at all (WAIVED, not
run). An expired waiver is ignored, and the item's result says so. A file that
cannot be read or validated is one DeploylogError, before anything runs. The
waivers a run used are recorded in its event of the state, so they are part of
the log's digest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploylog import catalogue
from deploylog.errors import DeploylogError
from deploylog.result import ERROR, FAIL, SKIP, WAIVED, CheckResult
from deploylog.spec import Spec, SpecError, read_toml, table

IN_FORCE = "in force"
EXPIRED = "expired"


class WaiverError(DeploylogError):
    """The waivers file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Waiver:
    """[[waivers]]: one accepted failure; the file [waivers] file names (TOML) holds one entry per waived item.

    item: the log item it waives (a built-in id, a [[checks]] id, or an item of a test of your own)
    justification: why the failure is accepted (shown with the item in every format)
    approved_by: who approved it (shown with the item in every format)
    expires: the last day it is in force (UTC), a TOML date (2026-03-31) or the same quoted; from the next day
        it is ignored, and the log says so
    run: whether the item still runs: true, its FAIL/ERROR shows as WAIVED; false, it is not run and shows as WAIVED
    """

    item: str
    justification: str
    approved_by: str
    expires: dt.date
    run: bool = True

    def in_force(self, today: dt.date) -> bool:
        return today <= self.expires

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "expires": self.expires.isoformat()}

    def reason(self) -> str:
        """The one line pytest shows for a waived test (its xfail/skip reason)."""
        ran = "" if self.run else "; not run"
        return f"WAIVED {self.item}: {self.justification} (approved by {self.approved_by}, until {self.expires.isoformat()}{ran})"


@dataclass(frozen=True)
class InForce:
    """The waivers of one run, split at the run's date: those that apply, and the expired ones (ignored)."""

    source: str
    today: dt.date
    waivers: tuple[Waiver, ...] = ()

    def active(self, item: str) -> Waiver | None:
        return next((w for w in self.waivers if w.item == item and w.in_force(self.today)), None)

    def expired(self, item: str) -> Waiver | None:
        return next((w for w in self.waivers if w.item == item and not w.in_force(self.today)), None)

    def record(self) -> list[dict[str, Any]]:
        """What the run event records: every waiver of the file, with its state on the run's date."""
        return [{**w.to_dict(), "state": IN_FORCE if w.in_force(self.today) else EXPIRED, "file": self.source} for w in self.waivers]

    def expired_lines(self) -> list[str]:
        return [
            f"deploylog: waiver of {w.item} ({w.approved_by}) expired on {w.expires.isoformat()}: ignored"
            for w in self.waivers
            if not w.in_force(self.today)
        ]


NONE = InForce("", dt.date.min)


def _entry(where: str, raw: Any, known: Collection[str] | None) -> Waiver:
    if isinstance(raw.get("expires"), str):  # "2026-03-31" quoted: read as the date it names
        try:
            raw = {**raw, "expires": dt.date.fromisoformat(raw["expires"].strip())}
        except ValueError:
            raise WaiverError(f"{where}.expires: {raw['expires']!r} is not a date (YYYY-MM-DD)") from None
    try:
        waiver: Waiver = table(where, raw, Waiver)
    except SpecError as exc:
        raise WaiverError(str(exc)) from None
    for key in ("item", "justification", "approved_by"):
        if not str(getattr(waiver, key)).strip():
            raise WaiverError(f"{where}.{key}: must not be empty")
    if known is not None and waiver.item not in known and waiver.item not in catalogue.ITEMS:
        shaped = "" if catalogue.phase_of(waiver.item) else " (an id is <phase>.<n>, e.g. 4.8)"
        raise WaiverError(
            f"{where}.item: {waiver.item!r} is not a log item of this deployment{shaped}: "
            "not built-in, not a [[checks]] entry, not an item of a test"
        )
    return waiver


def load(path: str | Path, known: Collection[str] | None = None) -> tuple[Waiver, ...]:
    """The waivers of a file, validated: every entry complete, typed, one per item, and of a `known` item
    (built-in, or one of `known`; None: the ids are not checked, e.g. on an xdist controller, which collects no test)."""
    path = Path(path)
    raw = read_toml(path, "waivers file", f"waivers file {path} ([waivers] file in deploy.toml) does not exist", WaiverError)
    unknown = [key for key in raw if key != "waivers"]
    if unknown:
        raise WaiverError(f"waivers file {path}: unknown key {unknown[0]!r}; write each waiver as a [[waivers]] entry")
    entries = raw.get("waivers", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise WaiverError(f"waivers file {path}: 'waivers' must be an array of tables ([[waivers]])")
    waivers: list[Waiver] = []
    for n, entry in enumerate(entries):
        waiver = _entry(f"waivers file {path}: waivers[{n}]", entry, known)
        if any(w.item == waiver.item for w in waivers):
            raise WaiverError(f"waivers file {path}: waivers[{n}].item: {waiver.item} is waived twice")
        waivers.append(waiver)
    return tuple(waivers)


def for_run(spec: Spec, today: dt.date, known: Collection[str] | None = None) -> InForce:
    """The waivers deploy.toml names, as of the run's date (NONE when it names no waivers file)."""
    if not spec.waivers.file:
        return NONE
    return InForce(spec.waivers.file, today, load(spec.waivers.file, known))


def text(waived_status: str, waiver: dict[str, Any]) -> str:
    """'FAIL waived: <justification> (approved by <who>, until <date>)': the words every format shows for a WAIVED item."""
    what = "not run" if waived_status == SKIP else f"{waived_status} waived"
    who, until = waiver.get("approved_by", ""), waiver.get("expires", "")
    return f"{what}: {waiver.get('justification', '')} (approved by {who}, until {until})"


def apply(result: CheckResult, waivers: InForce) -> CheckResult:
    """A FAIL/ERROR (or, with run = false, a not-run SKIP) under a waiver in force becomes WAIVED; an expired waiver says so."""
    waiver = waivers.active(result.item)
    if waiver is not None and (result.status in (FAIL, ERROR) or (result.status == SKIP and not waiver.run)):
        return result.replace(status=WAIVED, waived_status=result.status, waiver=waiver.to_dict())
    old = waivers.expired(result.item)
    if old is not None and result.status in (FAIL, ERROR):
        note = f"waiver of {old.item} (approved by {old.approved_by}) expired on {old.expires.isoformat()}: ignored"
        return result.replace(message=f"{result.message} ({note})")
    return result
