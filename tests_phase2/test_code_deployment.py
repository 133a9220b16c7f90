"""PHASE 2: CODE DEPLOYMENT - the checkout moved from the baseline's HEAD to the expected code."""

import pytest

from deploylog.hostchecks import code


@pytest.mark.item("2.1")
def test_git_pull(spec, stored_baseline, host, verdict):
    """Branch, this host's HEAD before (from the baseline) and after, and the log between them."""
    verdict(code.git_pull(spec, stored_baseline.head_on(host), host))


@pytest.mark.item("2.2")
def test_files_changed(spec, stored_baseline, host, verdict):
    """git diff --name-only <before>..HEAD against expected.changed_files (manifest rule in the evidence)."""
    verdict(code.changed_files(spec, stored_baseline.head_on(host), host))


@pytest.mark.item("2.3")
def test_syntax(spec, stored_baseline, host, verdict):
    """Every changed .py compiled and every changed .xml parsed, as deployed on disk."""
    verdict(code.syntax(spec, stored_baseline.head_on(host), host))


@pytest.mark.item("2.4")
def test_manifest_version(spec, host, verdict):
    """The 'version' of each deployed module's __manifest__.py, read as a literal (never executed)."""
    verdict(code.manifest_version(spec, host))
