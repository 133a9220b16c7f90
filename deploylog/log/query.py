"""Read-only questions about a deployment's recorded state (never writes, never locks).

Phase 0 asks whether the deployment has started before it writes a baseline:
a run that recorded results of phases 1-6 means the change is (being) made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploylog import catalogue
from deploylog.log import state


def is_post_item(item_id: str) -> bool:
    """An item of phases 1-6 (after the deployment started); unknown ids are not."""
    entry = catalogue.ITEMS.get(item_id)
    return entry is not None and entry.is_post


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
