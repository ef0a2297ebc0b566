"""A home shared by the metrics and status tests: real loads and real runs on the session sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.monitoring.helpers import derson
from tests.replication.conftest import ALL_SHOP, write_owner

CUSTOMERS = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "c",
            "rule-action": "include",
            "object-locator": {"schema-name": "shop", "table-name": "customers"},
        }
    ]
}


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory, sandbox) -> Path:
    """A home with: a full load + a delta with 2 changes (owner acme), a successful run (good)
    and a failed run (bad)."""
    tmp = tmp_path_factory.mktemp("metrics")
    write_owner(tmp, sandbox, name="acme", mapping=CUSTOMERS)
    write_owner(tmp, sandbox, name="good", mapping=CUSTOMERS)
    write_owner(
        tmp, sandbox, name="bad", mapping={"rules": [{**ALL_SHOP["rules"][0], "rule-action": "swallow"}]}
    )
    first = derson(tmp, "load", "acme", "--delta")
    assert first.returncode == 0, first.stderr
    admin = sandbox.admin_connection()
    try:
        with admin.cursor() as cur:  # the session sandbox is shared: the emails are put back at the end
            cur.execute("SELECT id, email FROM shop.customers WHERE id IN (1, 2)")
            original = cur.fetchall()
            cur.execute(
                "UPDATE shop.customers SET email = CONCAT('m-', id, '@example.com') WHERE id IN (1, 2)"
            )
        try:
            delta = derson(tmp, "load", "acme", "--delta")
            assert delta.returncode == 0 and "delta 2 change(s)" in delta.stdout, delta.stdout + delta.stderr
        finally:
            with admin.cursor() as cur:
                cur.executemany(
                    "UPDATE shop.customers SET email = %s WHERE id = %s", [(e, i) for i, e in original]
                )
    finally:
        admin.close()
    good = derson(tmp, "run", "good", "--time-scale", "0.01")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = derson(tmp, "run", "bad", "--time-scale", "0.01")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    return tmp
