"""PHASE 4, test 4.9: the deployed code is the code the database was upgraded with, by click-odoo-update's
own checksums (ir_config_parameter module_auto_update.installed_checksums), recomputed on each host."""

import pytest

from deploylog.hostchecks import checksums


@pytest.mark.item("4.9")
def test_code_matches_upgrade(spec, snapshot, host, verdict):
    """Each deployed module folder, hashed with click-odoo-contrib's rules, against the recorded checksum."""
    verdict(checksums.check(spec, snapshot, host))
