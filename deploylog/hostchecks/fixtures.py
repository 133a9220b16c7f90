"""Host-side fixtures (testinfra host, code checkout, service, log file).

`host` itself is pytest-testinfra's fixture: the local machine when --hosts is
not given, otherwise one parametrized instance per host (module scope), so
every host item runs once per host and its CheckResult carries the host name.
The fixtures below compute what several items of a phase share, once per host.
"""

from __future__ import annotations

from typing import Any

import pytest

from deploylog.hostchecks import logs, service


@pytest.fixture(scope="module")
def service_state(spec: Any, host: Any) -> service.ServiceState:
    """The Odoo service as the host reports it (3.1-3.4 read the same observation)."""
    return service.read_state(spec, host)


@pytest.fixture(scope="module")
def log_scan(spec: Any, stored_baseline: Any, host: Any) -> logs.Scan:
    """One backwards scan of the Odoo log over the deployment window, shared by 6.1-6.3."""
    return logs.scan_for(spec, stored_baseline.started_at, host)
