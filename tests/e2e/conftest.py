"""The deployed stack, shared by the end-to-end tests (see tests/emulator/stack.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulator"))

from stack import running_stack  # noqa: E402


@pytest.fixture(scope="session")
def stack():
    with running_stack() as s:
        yield s


@pytest.fixture(autouse=True)
def no_fault_outlives_its_test(request):
    """A test that fails before its own clear_faults() must not poison the ones after it."""
    yield
    if "stack" in request.fixturenames:
        request.getfixturevalue("stack").clear_faults()
