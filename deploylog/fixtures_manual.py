"""Manual items (P.1, phase 7): each test reports MANUAL (pending) until a person
records the result with `deploylog record ITEM PASS|FAIL --tester NAME`, then the
recorded result. No database is needed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from deploylog import context
from deploylog.log import manual
from deploylog.result import MANUAL, CheckResult


@pytest.fixture
def manual_result(spec: Any, request: pytest.FixtureRequest, verdict: Callable[[CheckResult], CheckResult]):
    """Decide a manual item from its recorded result (skip as MANUAL while pending)."""

    def decide(item_id: str) -> CheckResult:
        result = manual.result_for(spec, item_id)
        if result.status == MANUAL:
            context.record(request.node, result)
            pytest.skip(f"MANUAL: {result.message}")
        return verdict(result)

    return decide
