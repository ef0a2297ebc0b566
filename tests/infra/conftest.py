"""Fixtures of the infra tests. Parsing every .tf file with python-hcl2 is slow (seconds), so each
file is parsed once per session."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.infra import tf


@cache
def _parsed(path: str) -> dict[str, Any]:
    return tf.load_hcl(Path(path))


@pytest.fixture(scope="session")
def hcl():
    """``hcl(path)``: the parsed file (plain dicts), cached."""
    return lambda path: _parsed(str(path))
