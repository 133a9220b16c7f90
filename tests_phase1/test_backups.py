"""PHASE 1: BACKUP EXECUTION - the backups exist, are this deployment's, and read back."""

import pytest

from deploylog.hostchecks import backup, restore


@pytest.mark.item("1.1")
def test_database_dump(spec, stored_baseline, host, verdict):
    """Expected: <db>_PRE_DEPLOY_<ts>.dump newer than phase 0, read whole by pg_restore, protected data in it."""
    deep = restore.checker(spec, stored_baseline) if spec.database.verify_restore else None
    verdict(backup.database_dump(spec, stored_baseline.started_at, host, restore_check=deep))


@pytest.mark.item("1.2")
def test_code_backup(spec, stored_baseline, host, verdict):
    """Expected: <module>_<ts>.tar.gz readable, holds <module>/__manifest__.py at the pre-deployment version."""
    verdict(backup.code_backup(spec, stored_baseline.started_at, host))


@pytest.mark.item("1.3")
def test_snapshot_marker(spec, stored_baseline, host, verdict):
    """Expected: DEPLOYMENT_SNAPSHOT_<ts> exists, written after phase 0 started."""
    verdict(backup.snapshot_marker(spec, stored_baseline.started_at, host))
