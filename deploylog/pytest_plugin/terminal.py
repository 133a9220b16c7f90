"""The terminal behind pytest's output capture, for the progress of long work inside a test.

pytest captures what a test writes (file descriptors 1 and 2), so a progress
line written to sys.stderr would only show if the test failed. Live logging
has the same need and pytest's answer is the capture manager's
`global_and_fixture_disabled()`: each write here goes out with capture
suspended for just that write, the way pytest's own live-log handler does.
The first write starts a new line, so a progress line never continues
pytest's "tests_phase1/test_backups.py " on a terminal.
"""

from __future__ import annotations

import io
import sys
from typing import Any, TextIO

import pytest

from deploylog.pytest_plugin import context


class PastCapture(io.TextIOBase):
    """A text stream to the real stderr, past pytest's capture."""

    def __init__(self, capture_manager: Any) -> None:
        self.capture_manager = capture_manager
        self.started = False

    def write(self, text: str) -> int:
        with self.capture_manager.global_and_fixture_disabled():
            if not self.started:
                sys.stderr.write("\n")
                self.started = True
            sys.stderr.write(text)
            sys.stderr.flush()
        return len(text)

    def isatty(self) -> bool:
        with self.capture_manager.global_and_fixture_disabled():
            return sys.stderr.isatty()


def progress_stream(config: pytest.Config) -> TextIO | None:
    """Where a test's long work shows progress; None in an xdist worker, whose output reaches no terminal."""
    if context.is_worker(config):
        return None
    capture_manager = config.pluginmanager.getplugin("capturemanager")
    if capture_manager is None:  # -p no:capture: stderr is the terminal already
        return sys.stderr
    return PastCapture(capture_manager)  # type: ignore[return-value]
