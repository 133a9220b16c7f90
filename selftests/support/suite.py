"""Run the real log suite in a subprocess against a throwaway deployment, and read its outcomes.

Outcomes are read from the JUnit XML the run writes (each testcase carries the
log item id as its `item` property), independently of the log renderer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from deploylog import tomlwrite
from deploylog.demo import module_repo

REPO = Path(__file__).resolve().parents[2]
# A status summarising several testcases of one item (several hosts): the worst wins.
SEVERITY = ["PASS", "NA", "WAIVED", "SKIP", "MANUAL", "FAIL", "ERROR"]


@dataclass
class SuiteRun:
    returncode: int
    output: str
    outcomes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # item -> [(status, message)]
    report_dir: Path | None = None

    def status(self, item: str) -> str:
        found = self.outcomes.get(item)
        if not found:
            return "NOT RUN"
        return max((s for s, _ in found), key=SEVERITY.index)

    def message(self, item: str) -> str:
        return "\n".join(m for _, m in self.outcomes.get(item, []))

    def statuses(self) -> dict[str, str]:
        return {item: self.status(item) for item in sorted(self.outcomes)}

    def log(self) -> dict[str, Any]:
        assert self.report_dir is not None
        return json.loads((self.report_dir / "execution-log.json").read_text())


def parse_junit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """item -> [(status, message)], the status as the plugin recorded it (testcase property `status`)."""
    outcomes: dict[str, list[tuple[str, str]]] = {}
    for case in etree.parse(str(path)).iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iterfind("properties/property")}
        if "item" not in props:
            continue
        found = next((e for e in (case.find("failure"), case.find("error"), case.find("skipped")) if e is not None), None)
        message = found.get("message", "") if found is not None else ""
        status = props.get("status") or ("ERROR" if case.find("error") is not None else "NOT RECORDED")
        outcomes.setdefault(props["item"], []).append((status, message))
    return outcomes


class Deployment:
    """A deploy.toml in a temp dir, pointing at a throwaway database; runs the suite against it.

    It starts from `template` (the shipped deploy.toml, or an example's) and a checkout of `source`'s module.
    """

    def __init__(
        self,
        root: Path,
        db_name: str,
        dsn: str,
        template: Path = REPO / "deploy.toml",
        source: module_repo.ModuleSource = module_repo.PAYMENT,
    ) -> None:
        self.root = root
        self.config_path = root / "deploy.toml"
        with template.open("rb") as fh:
            self.config: dict[str, Any] = tomllib.load(fh)
        self.report_dir = root / "reports"
        self.configure(
            database={"name": db_name, "dsn": dsn},
            paths={
                "baseline_dir": str(root / "baseline"),
                "report_dir": str(self.report_dir),
                "repo": str(module_repo.build_repo(root / "checkout", source)[0]),
                "backup_dir": str(root / "backups"),
                "log_file": str(root / "odoo-server.log"),
            },
        )
        self.runs = 0

    def configure(self, **sections: dict[str, Any]) -> Deployment:
        for name, values in sections.items():
            if isinstance(values, list):
                self.config[name] = values
            else:
                self.config.setdefault(name, {}).update(values)
        self.config_path.write_text(tomlwrite.dumps(self.config))
        return self

    def add_tests(self, name: str, text: str) -> Path:
        """A test file of the deployment's own, in <root>/tests, which deploy.toml names in [paths] tests."""
        folder = self.root / "tests"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_text(text)
        self.configure(paths={"tests": [str(folder)]})
        return path

    def run(self, *args: str, timeout: int = 300, env: dict[str, str] | None = None) -> SuiteRun:
        """Run the log suite; the caller's PG* variables are dropped unless given in `env`."""
        self.runs += 1
        junit = self.root / f"junit-{self.runs}.xml"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("PG")}, **(env or {})}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                *args,
                f"--deploy-config={self.config_path}",
                f"--junitxml={junit}",
                "-q",
                "-p",
                "no:randomly",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
        outcomes = parse_junit(junit) if junit.exists() else {}
        return SuiteRun(done.returncode, done.stdout + done.stderr, outcomes, self.report_dir)
