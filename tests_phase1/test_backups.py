"""PHASE 1: BACKUP EXECUTION - the backups exist, are this deployment's, and read back."""

import pytest

from deploylog.hostchecks import backup, restore


@pytest.mark.item("1.1")
def test_database_dump(spec, stored_baseline, host, verdict, progress_stream):
    """The newest <db>_PRE_DEPLOY_<ts>.dump: its header (database, time, server), a full read by pg_restore, the protected data."""
    deep = restore.checker(spec, stored_baseline, host, progress_stream) if spec.database.verify_restore else None
    server = stored_baseline.identity.server_version
    verdict(backup.database_dump(spec, stored_baseline.started_at, host, server_version=server, restore_check=deep))


@pytest.mark.item("1.2")
def test_code_backup(spec, stored_baseline, host, verdict):
    """Each deployed module's newest <module>_<ts>.tar.gz, read whole, and the version of the manifest it holds."""
    verdict(backup.code_backup(spec, stored_baseline.started_at, host))


@pytest.mark.item("1.3")
def test_snapshot_marker(spec, stored_baseline, host, verdict):
    """The newest DEPLOYMENT_SNAPSHOT_<ts> marker and when it was written."""
    verdict(backup.snapshot_marker(spec, stored_baseline.started_at, host))
