"""The lake page in a real headless Chromium for an owner with ``target.tables: iceberg``: each table's
Iceberg row count next to the source's, and the binlog position of the snapshot, after real runs of
derson-Main (a full load, then a delta run) on the session sandbox."""

from __future__ import annotations

import json

import yaml
from selenium.webdriver.common.by import By

from dersonlake.sources.mysql.binlog_position import BinlogPosition
from tests.dashboard.conftest import screenshot
from tests.dashboard.test_dashboard_browser import _get, read_live
from tests.replication.conftest import write_owner

PROBE = 990_000_001  # an order inserted and deleted again: a CDC batch that leaves the counts alone


def cells(browser) -> dict[str, dict[str, str]]:
    """Per table row of acme's lake table: the Iceberg columns' texts."""
    article = browser.find_element(By.CSS_SELECTOR, 'article.owner[data-owner="acme"]')
    out = {}
    for row in article.find_elements(By.CSS_SELECTOR, "tbody tr"):
        name = row.find_element(By.CSS_SELECTOR, "td").text
        out[name] = {
            "source": row.find_element(By.CSS_SELECTOR, "td.source-rows").text,
            "iceberg": row.find_element(By.CSS_SELECTOR, "td.iceberg-rows").text,
            "iceberg_class": row.find_element(By.CSS_SELECTOR, "td.iceberg-rows").get_attribute("class"),
            "position": row.find_element(By.CSS_SELECTOR, "td.iceberg-position").text,
        }
    return out


def test_the_lake_page_shows_iceberg_rows_next_to_the_source_and_the_snapshot_position(
    served, tmp_path, sandbox, admin, browser
):
    folder = write_owner(tmp_path, sandbox, name="acme", target={"tables": "iceberg"})
    doc = yaml.safe_load((folder / "owner.yaml").read_text())
    (folder / "owner.yaml").write_text(yaml.safe_dump({**doc, "migration_type": "full-load-and-cdc"}))
    first = served.run("derson-Main", {"owner": "acme", "delta": True})
    assert first["status"] == "SUCCEEDED", first
    with admin.cursor() as cur:
        cur.execute(
            "INSERT INTO shop.orders (id, customer_id, amount, status, created_at, note)"
            " VALUES (%s, 1, 1, 'new', NOW(), 'dashboard probe')",
            (PROBE,),
        )
        cur.execute("DELETE FROM shop.orders WHERE id = %s", (PROBE,))
    second = served.run("derson-Main", {"owner": "acme", "delta": True})
    assert second["status"] == "SUCCEEDED", second

    browser.get(f"{served.url}/lake")
    headers = read_live(
        browser,
        lambda d: [th.text for th in d.find_elements(By.CSS_SELECTOR, 'article[data-owner="acme"] thead th')],
    )
    assert headers[-3:] == ["Source rows", "Iceberg rows", "Iceberg snapshot at"], headers
    shown = read_live(browser, cells)
    with admin.cursor() as cur:
        for name, row in shown.items():
            schema, table = name.split(".")
            cur.execute(f"SELECT COUNT(*) FROM `{schema}`.`{table}`")
            (count,) = cur.fetchone()
            assert row["source"].replace(",", "") == str(count), (name, row)
            if table == "events_log":  # no primary key: no Iceberg table (docs/iceberg.md)
                assert row["iceberg"] == "no Iceberg table", row
                continue
            assert row["iceberg"].replace(",", "") == str(count), (name, row)
            assert "error" not in row["iceberg_class"].split(), row
    # orders took the delta's batch: its snapshot records the binlog position the batch covers
    position = shown["shop.orders"]["position"]
    assert position != "full-load", shown["shop.orders"]
    BinlogPosition.parse(position)  # a binlog position, as the snapshot summary records it
    lake = json.loads(_get(f"{served.url}/api/lake"))
    (acme,) = lake["owners"]
    assert acme["iceberg"] is True and acme["icebergError"] is None, acme
    orders = next(t for t in acme["tables"] if t["table"] == "shop.orders")
    assert orders["position"] == position and orders["icebergRows"] == orders["sourceRows"]
    screenshot(browser, "dashboard-lake-iceberg", tmp_path)
