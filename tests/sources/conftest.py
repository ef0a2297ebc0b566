"""Fixtures for the binlog tests: a ``cdc_t`` schema of small tables in the session sandbox.

The binlog tests write their own tables (never ``shop``'s, which other tests read) and read back
from a position recorded after setup, so what the session sandbox did before does not matter.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dersonlake.sandbox import Sandbox
from tests.sources.binlog_helpers import SCHEMA, TABLES, Cdc


@pytest.fixture
def cdc(sandbox: Sandbox) -> Iterator[Cdc]:
    """``cdc_t.items``, ``cdc_t.notes`` (captured by default) and ``cdc_t.ignored``, created empty."""
    helper = Cdc(sandbox, sandbox.params([SCHEMA]))
    helper.sql(
        f"CREATE DATABASE IF NOT EXISTS {SCHEMA}",
        *(f"DROP TABLE IF EXISTS {SCHEMA}.{name}" for name in TABLES),
        *(f"CREATE TABLE {SCHEMA}.{name} ({cols}) ENGINE=InnoDB" for name, cols in TABLES.items()),
    )
    yield helper
