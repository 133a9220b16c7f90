"""A whole deployment on real artefacts, for running the real log suite's host items.

Order as in the template: phase 0 (baseline: HEAD before, start time) -> backups
(`deploylog backup`'s code) -> git pull of the 17.0.1.0.9 commit -> service
restart -> traffic in the log. `Scenario` keeps every artefact so a test can
break one thing, then run `deployment.run(...)`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from deploylog import baseline as baseline_mod
from deploylog import spec as spec_mod
from deploylog.demo import module_repo as hr
from deploylog.demo import odoo_log as hl
from deploylog.demo.odoo_server import OdooServer, wait_past
from deploylog.hostchecks import hostio, take_backup

HOST_ITEMS = "1.1,1.2,1.3,2.1,2.2,2.3,2.4,3.1,3.2,3.3,3.4,4.2,4.3,4.4,6.1,6.2,6.3"
# /proc start times are exact to a clock tick but btime is whole seconds: keep 1+ s apart
CLOCK_SLACK = dt.timedelta(seconds=1.2)


class Scenario:
    def __init__(self, deployment: Any, pg_bin_dir: Path, source: hr.ModuleSource = hr.PAYMENT) -> None:
        self.d = deployment
        self.root: Path = deployment.root
        self.source = source
        self.repo, self.before = hr.build_repo(self.root / "code", source)
        self.server = OdooServer(self.root / "odoo")
        self.cache = self.root / "lib" / ".cache"
        self.log = self.root / "odoo-server.log"
        deployment.configure(
            deployment={"branch": source.branch},
            paths={"repo": str(self.repo), "pg_bin_dir": str(pg_bin_dir)},
            service={**self.server.service_config(), "cache_dirs": [str(self.cache)]},
        )
        self.started_at: dt.datetime | None = None

    @property
    def spec(self) -> spec_mod.Spec:
        return spec_mod.load(self.d.config_path)

    def phase0(self, *extra: str) -> None:
        run = self.d.run("-m", "phase0", *extra)
        assert run.status("0.3") == "PASS", run.output[-3000:]
        self.started_at = baseline_mod.load(self.spec).started_at
        assert baseline_mod.load(self.spec).head_on(hostio.local_host()) == self.before

    def backups(self) -> list[take_backup.Taken]:
        return take_backup.take_backups(self.spec)

    def restart(self) -> dt.datetime:
        """Stop (if running) and start the service after phase 0; returns its start time."""
        self.server.stop()
        assert self.started_at is not None
        wait_past(self.started_at + CLOCK_SLACK)
        self.server.start()
        return dt.datetime.now(dt.UTC)

    def write_log(self, restart: dt.datetime) -> None:
        assert self.started_at is not None
        hl.healthy_log(self.log, self.started_at, restart)

    def run_host_items(self, *extra: str):
        return self.d.run("--items", HOST_ITEMS, *extra)
