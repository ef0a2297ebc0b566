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


@pytest.fixture(params=["compiled", "pure-python"])
def row_decoder(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test with the compiled row decoder, then with the pure-Python one (CI runs both).

    The compiled one must be there: ``pip install -e .`` builds it (setup.py), so a missing or
    stale build fails here instead of silently testing the pure-Python path twice.
    """
    from dersonlake.sources.mysql.binlog_rows_event import row_decoder_name, use_pure_python

    use_pure_python(request.param == "pure-python")
    assert row_decoder_name() == request.param, "the compiled row decoder is not built: run make install"
    yield request.param
    use_pure_python(False)
