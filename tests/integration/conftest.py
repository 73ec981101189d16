"""One real local stack shared by every integration test of the run (and by tests/e2e);
each test module works in its own tenant. The fixture lives in tests/stack.py and is
registered in tests/conftest.py; the names are re-exported for the test modules."""

from __future__ import annotations

from tests.stack import ROOT, RunningStack, wait_for

__all__ = ["ROOT", "RunningStack", "wait_for"]
