"""pytest-xdist: the controller keeps one snapshot open and every worker imports it.

Database items then read the database at one instant whatever worker runs
them, as in a single process. The controller also hands its session start to
the workers (phase 0 records it as the start of the deployment), and is the
only process that writes the execution log and prints the verdict.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from deploylog import db
from deploylog.errors import DeploylogError
from deploylog.pytest_plugin import context

SNAPSHOT_KEY = "deploylog_snapshot"
START_KEY = "deploylog_session_start"


def shared_snapshot(config: pytest.Config) -> str | None:
    """In a worker: the snapshot id the controller exported, if it could export one."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    return workerinput.get(SNAPSHOT_KEY) or None


def session_start(config: pytest.Config) -> dt.datetime | None:
    """In a worker: the controller's session start."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    text = workerinput.get(START_KEY)
    return dt.datetime.fromisoformat(text) if text else None


class Controller:
    """Registered on the xdist controller: exports the snapshot once, closes it at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.snapshot: db.Snapshot | None = None
        self.exported: str | None = None
        self.tried = False

    def _export(self) -> str | None:
        if not self.tried:
            self.tried = True
            loaded = context.load_spec(self.config)
            if not isinstance(loaded, DeploylogError):
                try:
                    self.snapshot = db.open_snapshot(loaded)
                    self.exported = self.snapshot.export()
                except DeploylogError:
                    self.snapshot = None  # each worker then reports the database error on its items
        return self.exported

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[START_KEY] = context.session_start(self.config).isoformat()
        exported = self._export()
        if exported:
            node.workerinput[SNAPSHOT_KEY] = exported

    def pytest_unconfigure(self) -> None:
        if self.snapshot is not None:
            self.snapshot.close()


def register(config: pytest.Config) -> None:
    """On an xdist controller (-n N), hand the workers the shared snapshot and session start."""
    if config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None) and not context.is_worker(config):
        config.pluginmanager.register(Controller(config), "deploylog-xdist-controller")
