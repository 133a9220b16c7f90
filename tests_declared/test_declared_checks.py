"""The [[checks]] of deploy.toml: one test per entry (its item id is the entry's), run in the session's
read-only snapshot; the query, the expectation and the evidence are deploylog/checks.py's."""

from deploylog import checks


def test_declared_check(declared_check, snapshot, spec, check_baseline, verdict):
    """The entry's query, compared with its expectation."""
    verdict(checks.run(snapshot, declared_check, spec, check_baseline))
