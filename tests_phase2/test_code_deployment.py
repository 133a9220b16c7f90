"""PHASE 2: CODE DEPLOYMENT - the checkout moved from the baseline's HEAD to the expected code."""

import pytest

from deploylog.hostchecks import code


@pytest.mark.item("2.1")
def test_git_pull(spec, stored_baseline, host, verdict):
    """Expected: on deployment.branch; HEAD after descends from the HEAD recorded in phase 0."""
    verdict(code.git_pull(spec, stored_baseline.code.get("head"), host))


@pytest.mark.item("2.2")
def test_files_changed(spec, stored_baseline, host, verdict):
    """Expected: git diff --name-only <before>..HEAD equals expected.changed_files (manifest: version-only)."""
    verdict(code.changed_files(spec, stored_baseline.code.get("head"), host))


@pytest.mark.item("2.3")
def test_syntax(spec, stored_baseline, host, verdict):
    """Expected: every changed .py compiles, every changed .xml parses."""
    verdict(code.syntax(spec, stored_baseline.code.get("head"), host))


@pytest.mark.item("2.4")
def test_manifest_version(spec, host, verdict):
    """Expected: 'version': '<expected_version>' in __manifest__.py."""
    verdict(code.manifest_version(spec, host))
