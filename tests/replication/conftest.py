"""Helpers for full-load tests: an owner folder pointing at the session sandbox, and a loader that
runs a replication task through the library, exactly as ``derson-lake load`` does."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from dersonlake.config import load_owner
from dersonlake.lake.storage import Storage
from dersonlake.replication import status
from dersonlake.replication.full_load import LoadOutcome
from dersonlake.replication.prepared_owner import PreparedOwner, prepare
from dersonlake.replication.replication_task import ReplicationTask, StartRequest, TaskResources
from dersonlake.replication.store import ReplicationStore
from dersonlake.replication.task import create_task

ALL_SHOP = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "all",
            "object-locator": {"schema-name": "shop", "table-name": "%"},
            "rule-action": "include",
        }
    ]
}


def write_owner(
    root: Path,
    sandbox,
    *,
    name: str = "acme",
    uri: str | None = None,
    s3: dict | None = None,
    mapping: dict | None = None,
    settings: dict | None = None,
    target: dict | None = None,
    password_file: str | None = None,
) -> Path:
    folder = root / "owners" / name
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "source": {
            "engine": "mariadb",
            "host": "127.0.0.1",
            "port": sandbox.port,
            "user": sandbox.replication_user,
            "password_file": password_file or str(sandbox.password_file),
            "databases": ["shop"],
        },
        "target": {
            "uri": uri or str(root / "lake"),
            "s3_settings": s3 or {"DataFormat": "parquet"},
            **(target or {}),
        },
        "migration_type": "full-load",
    }
    (folder / "owner.yaml").write_text(yaml.safe_dump(doc))
    (folder / "mapping.json").write_text(json.dumps(mapping or ALL_SHOP))
    (folder / "task_settings.json").write_text(json.dumps(settings or {}))
    return folder


@dataclass
class Loaded:
    outcome: LoadOutcome
    run: PreparedOwner
    storage: Storage
    store: ReplicationStore
    arn: str

    def task(self) -> Any:
        return self.store.task(self.arn)

    def tables(self) -> dict[str, Any]:
        return {f"{r['schema_name']}.{r['table_name']}": r for r in self.store.table_stats(self.arn)}


@pytest.fixture
def load_owner_once(tmp_path: Path, sandbox) -> Callable[..., Loaded]:
    """``load(name="acme", start_type=..., discover=None, **owner)``: write the owner (unless it exists)
    and run its task once; the store lives in the test's temp folder."""
    store = ReplicationStore(tmp_path / "replication.sqlite")

    def load(
        name: str = "acme",
        start_type: str = status.START_REPLICATION,
        discover=None,
        migration_type: str = "full-load",
        **owner,
    ) -> Loaded:
        if owner or not (tmp_path / "owners" / name).exists():
            write_owner(tmp_path, sandbox, name=name, **owner)
        run = prepare(load_owner(name, tmp_path / "owners"))
        params = run.source()
        storage = run.storage()
        row = store.task(run.task_identifier)
        arn = (
            row["arn"]
            if row
            else create_task(
                store,
                run.task_identifier,
                migration_type=migration_type,
                table_mappings=json.dumps(run.owner.mapping),
                settings_json=run.settings.to_json(),
                owner=name,
            )
        )
        resources = TaskResources(
            owner=name,
            source=params,
            storage=storage,
            s3=run.s3,
            discover=discover or (lambda: run.catalog(params)),
            plan=lambda catalog, _migration: run.plan(catalog, "full-load"),
            checkpoint=None,
        )
        # a task that captures changes stops after its load (as ``derson-lake load`` does), having
        # recorded where CDC starts; the test then runs the CDC it wants
        captures = (row["migration_type"] if row else migration_type) != "full-load"
        request = StartRequest(start_type, stop_after_full_load=captures)
        result = ReplicationTask(store, arn, resources).start(request)
        outcome = result.full_load or LoadOutcome(failure=result.failure)
        return Loaded(outcome, run, storage, store, arn)

    load.root = tmp_path  # type: ignore[attr-defined]
    load.sandbox = sandbox  # type: ignore[attr-defined]
    yield load
    store.close()
