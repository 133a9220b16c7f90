"""PHASE 6: LOG ANALYSIS - the Odoo log since the deployment started, read from its end."""

import pytest

from deploylog.hostchecks import logs


@pytest.mark.item("6.1")
def test_error_count(spec, log_scan, host, verdict):
    """ERROR/CRITICAL records since phase 0 started (or in the last N lines)."""
    verdict(logs.error_count(spec, log_scan, host))


@pytest.mark.item("6.2")
def test_module_errors(spec, log_scan, host, verdict):
    """ERROR records of the module: its logger, or its name in the message or traceback."""
    verdict(logs.module_errors(spec, log_scan, host))


@pytest.mark.item("6.3")
def test_error_details(spec, log_scan, host, verdict):
    """The full messages and tracebacks of the errors found."""
    verdict(logs.error_details(spec, log_scan, host))
