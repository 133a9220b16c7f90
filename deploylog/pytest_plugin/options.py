"""Command-line options of the log suite: the shared configuration options, plus the run's own."""

from __future__ import annotations

import pytest

from deploylog import options


def add(parser: pytest.Parser) -> None:
    group = parser.getgroup("deploylog", "deployment execution log")
    for option in options.CONFIG_OPTIONS:
        if option.repeatable:
            group.addoption(option.flag, action="append", default=[], metavar=option.metavar, help=option.help)
        else:
            group.addoption(option.flag, default=None, metavar=option.metavar, help=option.help)
    group.addoption("--items", default=None, help="run only these log items, comma separated (e.g. 4.1,5.4)")
    group.addoption(
        "--recapture-baseline",
        action="store_true",
        default=False,
        help="phase 0: replace the baseline of this deployment (the old one is archived); refused once the deployment has started",
    )
