"""Helpers shared by the log's CLI commands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from deploylog import spec as spec_mod


def add_report_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report-dir", default=None, help="overrides [paths] report_dir (where the log is written)")


def load_spec(args: argparse.Namespace) -> Any:
    """The deployment's Spec from --deploy-config; a bad file raises SpecError (one line on the console)."""
    return spec_mod.load(Path(args.deploy_config))


def report_dir(args: argparse.Namespace) -> str | None:
    return str(Path(args.report_dir).resolve()) if getattr(args, "report_dir", None) else None
