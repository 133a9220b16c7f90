"""Every row of the deployment template, as data (catalogue.toml): id, title, expected, severity, aspect.

The log renderer, the markers and the quality scores all read this table, so
an item is described in exactly one place. A deployment adds its own items
(a test marked `@pytest.mark.item("4.8", title=...)`, a `[[checks]]` entry of
deploy.toml): `define` validates one, `merged` builds the catalogue a log uses
(built-in + its own, in the log's order). Nothing here is changed at run time:
each log is built from data (its state records the definitions of its own items).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from deploylog.errors import DeploylogError

CRITICAL = "critical"
HIGH = "high"
MEDIUM = "medium"
LOW = "low"
SEVERITIES = (CRITICAL, HIGH, MEDIUM, LOW)

# Phase numbers as the template names them; "P" is the T-24h preflight list.
PHASES: dict[str, str] = {
    "P": "PRE-DEPLOYMENT (T-24h)",
    "0": "PHASE 0: PRE-DEPLOYMENT VALIDATION",
    "1": "PHASE 1: BACKUP EXECUTION",
    "2": "PHASE 2: CODE DEPLOYMENT",
    "3": "PHASE 3: SERVICE RESTART",
    "4": "PHASE 4: FUNCTIONAL TESTS",
    "5": "PHASE 5: DATA INTEGRITY VERIFICATION",
    "6": "PHASE 6: LOG ANALYSIS",
    "7": "PHASE 7: POST-DEPLOYMENT TESTING (Manual - Next 24h)",
}

# Quality-score aspects of the template's "Deployment Quality Score" table.
ASPECTS = ("Code Deployment", "Data Integrity", "Service Health", "Functional Tests", "Log Analysis")
# The aspect of an item of one's own when it names none: the one its phase is mostly about.
PHASE_ASPECTS: dict[str, str] = {
    "P": "Service Health",
    "0": "Data Integrity",
    "1": "Data Integrity",
    "2": "Code Deployment",
    "3": "Service Health",
    "4": "Functional Tests",
    "5": "Data Integrity",
    "6": "Log Analysis",
    "7": "Functional Tests",
}
# Severity of an item of one's own when it names none: its failure is a NO-GO, not a rollback.
DEFAULT_SEVERITY = HIGH
DEFAULT_EXPECTED = "The check passes"
# "<phase>.<rest>": P or 0-7, a dot, then letters, digits, dots, dashes or underscores.
ITEM_ID = re.compile(r"^(P|[0-7])\.[A-Za-z0-9][A-Za-z0-9._-]*$")
BUILT_IN = "built-in"


class CatalogueError(DeploylogError):
    """An item definition the log cannot use (unknown id without a title, clash with a built-in item, ...)."""


@dataclass(frozen=True)
class Item:
    id: str
    phase: str
    title: str
    expected: str
    severity: str
    aspect: str
    origin: str = BUILT_IN  # built-in, or where an item of one's own was defined (a test, deploy.toml)

    @property
    def marker(self) -> str:
        return "preflight" if self.phase == "P" else f"phase{self.phase}"

    @property
    def is_post(self) -> bool:
        return self.phase in {"1", "2", "3", "4", "5", "6"}

    @property
    def builtin(self) -> bool:
        return self.origin == BUILT_IN

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        return cls(**{k: str(data[k]) for k in ("id", "phase", "title", "expected", "severity", "aspect", "origin") if k in data})


def _load() -> tuple[dict[str, Item], dict[str, str]]:
    """The rows of catalogue.toml, validated: a broken catalogue must fail at import, never mid-run.

    Returns (the items, item id -> what deploy.toml must declare for it: its `needs`).
    """
    rows = tomllib.loads(resources.files("deploylog").joinpath("catalogue.toml").read_text(encoding="utf-8"))["items"]
    items: dict[str, Item] = {}
    needs: dict[str, str] = {}
    for row in rows:
        need = row.pop("needs", "")
        entry = Item(phase=row["id"].split(".")[0], **row)
        if entry.phase not in PHASES or entry.severity not in SEVERITIES or entry.aspect not in ASPECTS:
            raise ValueError(f"catalogue.toml: item {entry.id} has an unknown phase, severity or aspect")
        items[entry.id] = entry
        if need:
            needs[entry.id] = need
    return items, needs


ITEMS, NEEDS = _load()

MARKERS: dict[str, str] = {
    "preflight": "T-24h checklist (items P.x)",
    **{f"phase{n}": PHASES[str(n)] for n in range(8)},
    "post": "after the deployment: phases 1-6, diffed against the baseline",
}


def item(item_id: str) -> Item:
    """The catalogue entry for an id, with a clear error for a typo."""
    try:
        return ITEMS[item_id]
    except KeyError:
        raise KeyError(f"unknown log item {item_id!r}; known: {', '.join(ITEMS)}") from None


def items_of_phase(phase: str) -> list[Item]:
    """The built-in items of a phase (a log's own catalogue: `merged`)."""
    return [i for i in ITEMS.values() if i.phase == phase]


def phase_of(item_id: str) -> str:
    """The phase an item id belongs to, from its prefix ("4.8" -> "4"); "" when the id is not shaped like one."""
    found = ITEM_ID.match(item_id)
    return found.group(1) if found else ""


def define(
    item_id: str,
    title: str = "",
    expected: str = "",
    severity: str = "",
    aspect: str = "",
    origin: str = "test",
) -> Item:
    """The item an id (and the definition given with it) names: a built-in one, or one of the deployment's own.

    A built-in id needs nothing more (a title, if given, must be its own); any
    other id must be shaped `<phase>.<n>` and come with a title. Raises
    CatalogueError (one line) otherwise.
    """
    if item_id in ITEMS:
        known = ITEMS[item_id]
        if title and title != known.title:
            raise CatalogueError(
                f"item {item_id} is a built-in item ({known.title!r}); {origin} gives it the title {title!r}: "
                "choose an id of your own (e.g. the next free number of the phase)"
            )
        return known
    phase = phase_of(item_id)
    if not phase:
        raise CatalogueError(f"item id {item_id!r} ({origin}) is not shaped <phase>.<n> with a phase P or 0-7 (e.g. '4.8', 'P.8')")
    if not title:
        raise CatalogueError(
            f"unknown log item {item_id!r} ({origin}): an item of your own needs a title, "
            f'e.g. @pytest.mark.item("{item_id}", title="What it checks")'
        )
    entry = Item(
        id=item_id,
        phase=phase,
        title=title,
        expected=expected or DEFAULT_EXPECTED,
        severity=severity or DEFAULT_SEVERITY,
        aspect=aspect or PHASE_ASPECTS[phase],
        origin=origin,
    )
    if entry.severity not in SEVERITIES:
        raise CatalogueError(f"item {item_id} ({origin}): severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    if entry.aspect not in ASPECTS:
        raise CatalogueError(f"item {item_id} ({origin}): aspect {aspect!r} is not one of {', '.join(ASPECTS)}")
    return entry


def _natural(item_id: str) -> tuple[Any, ...]:
    """'4.10' after '4.9': numbers compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", item_id.split(".", 1)[1]))


def _same(a: Item, b: Item) -> bool:
    return (a.title, a.expected, a.severity, a.aspect) == (b.title, b.expected, b.severity, b.aspect)


def merged(own: Iterable[Item]) -> dict[str, Item]:
    """The catalogue of one log: the built-in items and the deployment's own, by phase, each phase in id order.

    Two different definitions of one id are a CatalogueError naming both origins.
    """
    items = dict(ITEMS)
    for entry in own:
        known = items.get(entry.id)
        if known is not None and not _same(known, entry):
            raise CatalogueError(
                f"item {entry.id} is defined twice, differently: {known.title!r} ({known.origin}) and {entry.title!r} ({entry.origin})"
            )
        if known is None:
            items[entry.id] = entry
    phases = list(PHASES)
    return dict(sorted(items.items(), key=lambda kv: (phases.index(kv[1].phase), _natural(kv[0]))))
