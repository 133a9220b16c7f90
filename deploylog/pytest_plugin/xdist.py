"""pytest-xdist: the controller keeps one snapshot open and every worker imports it.

Database items then read the database at one instant whatever worker runs
them, as in a single process. The controller also hands its session start to
the workers (phase 0 records it as the start of the deployment), and is the
only process that writes the execution log and prints the verdict.

Which snapshot each process read is noted for the log: the process that opens
the session's snapshot notes it (imported or its own, with the snapshot's
txid_current_snapshot()); the note rides on each test's last report to the
controller, and the run event lists the notes of the run (`snapshots`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from deploylog import catalogue, db, odoo
from deploylog import waivers as waivers_mod
from deploylog.errors import DeploylogError
from deploylog.pytest_plugin import context

SNAPSHOT_KEY = "deploylog_snapshot"
START_KEY = "deploylog_session_start"
ITEMS_KEY = "deploylog_items"  # a worker's items of the deployment's own, for the controller's run record
SNAPSHOT_NOTE = pytest.StashKey[str]()
ODOO_NOTE = pytest.StashKey[str]()  # the Odoo version and layout the snapshot found (the log's header)
CONTROLLER = "deploylog-xdist-controller"
SNAPSHOT_QUERY = "SELECT txid_current_snapshot()::text"


def shared_snapshot(config: pytest.Config) -> str | None:
    """In a worker: the snapshot id the controller exported, if it could export one."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    return workerinput.get(SNAPSHOT_KEY) or None


def session_start(config: pytest.Config) -> dt.datetime | None:
    """In a worker: the controller's session start."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    text = workerinput.get(START_KEY)
    return dt.datetime.fromisoformat(text) if text else None


def share_own_items(config: pytest.Config) -> None:
    """In a worker: hand the items of the deployment's own it collected to the controller (sent when it finishes)."""
    workeroutput: dict[str, Any] | None = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[ITEMS_KEY] = [i.to_dict() for i in context.own_items(config).values()]


def process_name(config: pytest.Config) -> str:
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    return str(workerinput.get("workerid") or ("controller" if config.pluginmanager.has_plugin(CONTROLLER) else "main"))


def note(config: pytest.Config, snap: db.Snapshot, how: str) -> str:
    """One line saying which snapshot this process reads (the same text in every process that shares it)."""
    seen = snap.memo("txid_current_snapshot", lambda: str(snap.row(SNAPSHOT_QUERY)[0]))
    text = f"{process_name(config)}: {how}, txid_current_snapshot {seen}"
    config.stash[SNAPSHOT_NOTE] = text
    return text


def snapshot_note(config: pytest.Config) -> str | None:
    return config.stash.get(SNAPSHOT_NOTE, None)


def odoo_note(config: pytest.Config) -> str | None:
    return config.stash.get(ODOO_NOTE, None)


class SnapshotNotes:
    """Registered everywhere: notes the session's snapshot when the `snapshot` fixture opens it,
    and hands the note to the reporter on each log test's last report (across xdist too)."""

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Any:
        value = yield
        if fixturedef.argname == "snapshot" and isinstance(value, db.Snapshot):
            how = f"imported snapshot {value.shared}" if value.shared else "own snapshot"
            note(request.config, value, how)
            request.config.stash[ODOO_NOTE] = odoo.describe(value)
        return value

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        seen = snapshot_note(item.config)
        if call.when == "teardown" and seen:
            report.deploylog_snapshot = seen
            report.deploylog_odoo = odoo_note(item.config)
        return report


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
                    note(self.config, self.snapshot, f"exported snapshot {self.exported}")
                except DeploylogError:
                    self.snapshot = None  # each worker then reports the database error on its items
        return self.exported

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """The waivers file is checked here, before any worker starts: a file that cannot be used stops the run (exit 4)."""
        loaded = context.load_spec(self.config)
        if isinstance(loaded, DeploylogError):
            return  # each worker's items report it
        try:
            self.config.stash[context.WAIVERS] = waivers_mod.for_run(loaded, context.session_start(self.config).date())
        except DeploylogError as exc:
            pytest.exit(f"deploylog: configuration error, nothing run or recorded: {exc}", int(pytest.ExitCode.USAGE_ERROR))

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        shared = getattr(node, "workeroutput", {}).get(ITEMS_KEY) or []
        context.own_items(self.config).update({d["id"]: catalogue.Item.from_dict(d) for d in shared})

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[START_KEY] = context.session_start(self.config).isoformat()
        exported = self._export()
        if exported:
            node.workerinput[SNAPSHOT_KEY] = exported

    def pytest_unconfigure(self) -> None:
        if self.snapshot is not None:
            self.snapshot.close()


def register(config: pytest.Config) -> None:
    """Note the snapshot everywhere; on an xdist controller (-n N), hand the workers the shared snapshot and session start."""
    config.pluginmanager.register(SnapshotNotes(), "deploylog-snapshot-notes")
    if config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None) and not context.is_worker(config):
        config.pluginmanager.register(Controller(config), CONTROLLER)
