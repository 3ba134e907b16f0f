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
