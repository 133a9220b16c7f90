"""PHASE 3: SERVICE RESTART - stopped, caches cleared, started after phase 0, healthy."""

import pytest

from deploylog.hostchecks import service


@pytest.mark.item("3.1")
def test_stopped(spec, stored_baseline, service_state, host, verdict):
    """When the running instance started, against the start of phase 0."""
    verdict(service.stopped(spec, service_state, stored_baseline.started_at, host))


@pytest.mark.item("3.2")
def test_cache_cleared(spec, host, verdict):
    """Each of service.cache_dirs, gone or empty."""
    verdict(service.caches_cleared(spec, host))


@pytest.mark.item("3.3")
def test_started(spec, service_state, host, verdict):
    """The service's state as its manager reports it."""
    verdict(service.started(spec, service_state, host))


@pytest.mark.item("3.4")
def test_startup_verification(spec, stored_baseline, service_state, host, verdict):
    """The health URL's answer and the module's errors in the log since the restart."""
    verdict(service.healthy(spec, service_state, stored_baseline.started_at, host))
