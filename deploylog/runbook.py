"""Which built-in items a deployment's runbook holds: the catalogue's `needs`, against deploy.toml.

A built-in item that needs something of deploy.toml (catalogue.toml `needs`: a
section such as [groups], or a [[guards]] entry naming the item) is in the
runbook only when deploy.toml declares it. Otherwise the item is not this
deployment's at all: not collected, not in the log's catalogue, scores or
totals; the log's header names it and why. That is not N/A, which is a claim
about something the deployment declared optional.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from deploylog import catalogue
from deploylog.spec import ARRAYS, OPTIONAL, Spec


def _check_needs() -> None:
    """A `needs` must name an optional section or an array whose entries name their item: fail at import."""
    for item_id, need in catalogue.NEEDS.items():
        if need in OPTIONAL:
            continue
        if need in ARRAYS and "item" in {f.name for f in dataclasses.fields(ARRAYS[need])}:
            continue
        raise ValueError(f"catalogue.toml: item {item_id} needs {need!r}, which is no optional section or array of deploy.toml")


_check_needs()


def missing(spec: Spec, item_id: str) -> str:
    """Why a built-in item is not in this deployment's runbook ('' when it is)."""
    need = catalogue.NEEDS.get(item_id, "")
    if not need:
        return ""
    if need in OPTIONAL:
        return "" if getattr(spec, need) is not None else f"deploy.toml has no [{need}]"
    if any(entry.item == item_id for entry in getattr(spec, need)):
        return ""
    return f"deploy.toml has no [[{need}]] entry for item {item_id}"


def not_in_runbook(spec: Spec) -> dict[str, str]:
    """Built-in item id -> why it is not in this deployment's runbook, in the log's order."""
    return {item_id: reason for item_id in catalogue.ITEMS if (reason := missing(spec, item_id))}


def holds(spec: Spec) -> list[str]:
    """The built-in items of this deployment's runbook, in the log's order."""
    return [item_id for item_id in catalogue.ITEMS if not missing(spec, item_id)]


def grouped(reasons: Mapping[str, str]) -> list[str]:
    """'P.6, 0.4, 4.6: deploy.toml has no [groups]': the items of one reason on one line, in the log's order."""
    order = list(catalogue.ITEMS)
    by_reason: dict[str, list[str]] = {}
    for item_id in sorted(reasons, key=lambda i: order.index(i) if i in order else len(order)):
        by_reason.setdefault(reasons[item_id], []).append(item_id)
    return [f"{', '.join(ids)}: {reason}" for reason, ids in by_reason.items()]
