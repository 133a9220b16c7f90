"""Every row of the deployment template, as data (catalogue.toml): id, title, expected, severity, aspect.

The log renderer, the markers and the quality scores all read this table, so
an item is described in exactly one place.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources

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


@dataclass(frozen=True)
class Item:
    id: str
    phase: str
    title: str
    expected: str
    severity: str
    aspect: str

    @property
    def marker(self) -> str:
        return "preflight" if self.phase == "P" else f"phase{self.phase}"

    @property
    def is_post(self) -> bool:
        return self.phase in {"1", "2", "3", "4", "5", "6"}


def _load() -> dict[str, Item]:
    """The rows of catalogue.toml, validated: a broken catalogue must fail at import, never mid-run."""
    rows = tomllib.loads(resources.files("deploylog").joinpath("catalogue.toml").read_text(encoding="utf-8"))["items"]
    items: dict[str, Item] = {}
    for row in rows:
        entry = Item(phase=row["id"].split(".")[0], **row)
        if entry.phase not in PHASES or entry.severity not in SEVERITIES or entry.aspect not in ASPECTS:
            raise ValueError(f"catalogue.toml: item {entry.id} has an unknown phase, severity or aspect")
        items[entry.id] = entry
    return items


ITEMS: dict[str, Item] = _load()

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
    return [i for i in ITEMS.values() if i.phase == phase]
