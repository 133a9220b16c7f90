"""Read-only questions about a deployment's recorded state (never writes, never locks).

Phase 0 asks whether the deployment has started before it writes a baseline:
a run that recorded results of phases 1-6 means the change is (being) made.
The log asks which items of the deployment's own its runs defined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploylog import catalogue
from deploylog.log import state


def is_post_item(item_id: str) -> bool:
    """An item of phases 1-6 (after the deployment started), built-in or of the deployment's own (by its id's prefix)."""
    return catalogue.phase_of(item_id) in {"1", "2", "3", "4", "5", "6"}


def defined_items(current: dict[str, Any]) -> dict[str, catalogue.Item]:
    """The items of the deployment's own its runs recorded (`items` of each run event), the latest definition of each.

    A result of an id no run defined (a state written by hand, or before runs
    recorded their items) still gets an entry, titled by its id, so no result is
    left out of the log. Built-in ids keep the catalogue's definition.
    """
    found: dict[str, catalogue.Item] = {}
    for run in state.events(current, "run"):
        for data in run.get("items") or []:
            found[str(data["id"])] = catalogue.Item.from_dict(data)
        for entry in run.get("results", []):
            item_id = str(entry.get("item", ""))
            if item_id not in found and item_id not in catalogue.ITEMS and catalogue.phase_of(item_id):
                found[item_id] = catalogue.define(item_id, title=item_id, origin="a recorded result")
    return {k: v for k, v in found.items() if k not in catalogue.ITEMS}


def recorded_items(report_dir: str | Path, deployment_id: str) -> set[str]:
    """The ids of the deployment's own items its log holds (set() when no state yet; DamagedState when damaged)."""
    current = state.load(state.state_path(report_dir, deployment_id))
    return set(defined_items(current)) if current else set()


def post_runs(report_dir: str | Path, deployment_id: str) -> list[dict[str, Any]]:
    """The recorded pytest runs holding results of phases 1-6, oldest first ([] when no state yet)."""
    current = state.load(state.state_path(report_dir, deployment_id))
    if current is None:
        return []
    return [run for run in state.events(current, "run") if any(is_post_item(str(r.get("item", ""))) for r in run.get("results", []))]


def short_command(run: dict[str, Any]) -> str:
    """The run's command up to its first option: `pytest -m post` (enough to recognise it next to its number and time)."""
    words = str(run.get("command") or "pytest").split()
    end = next((i for i, w in enumerate(words) if w.startswith("--")), len(words))
    return " ".join(words[:end])


def first_post_run(report_dir: str | Path, deployment_id: str) -> dict[str, Any] | None:
    runs = post_runs(report_dir, deployment_id)
    return runs[0] if runs else None
