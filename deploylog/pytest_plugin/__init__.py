"""deploylog's pytest wiring: the only package of deploylog that imports pytest.

Loaded through the pytest11 entry point (`deploylog.pytest_plugin.plugin`).
The engine (db, odoo, fingerprint, baseline, checks, hostchecks) and the log
(state, rules, renderers) know nothing of pytest: a check returns a
CheckResult, which crosses to the log attached to the test's last report.
"""
