"""A time-bounded fuzz pass over the three owner files: whatever bytes or JSON/YAML shapes they
hold, loading and parsing them ends in success or a ``BadInput`` naming the file (exit code 2),
never another exception (a traceback at the command line)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dersonlake.config import load_owner
from dersonlake.errors import BadInput
from dersonlake.replication.prepared_owner import prepare

# Bounded: a few hundred examples per file in well under a minute on a shared 2-core machine.
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

OWNER = {
    "source": {"engine": "mariadb", "host": "127.0.0.1", "port": 3306, "user": "u", "databases": ["shop"]},
    "target": {"uri": "./lake", "s3_settings": {"DataFormat": "parquet"}},
}
MAPPING = {
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
SETTINGS = {"ErrorBehavior": {"RecoverableErrorCount": -1}}

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


def mutate(doc: Any, path: list[Any], value: Any) -> Any:
    """``doc`` with the node at ``path`` (as far as it exists) replaced by ``value``."""
    doc = json.loads(json.dumps(doc))
    node = doc
    for step in path[:-1]:
        key = step % len(node) if isinstance(node, list) and node else step
        if isinstance(node, dict) and node:
            key = list(node)[step % len(node)]
        elif not isinstance(node, list) or not node:
            break
        if not isinstance(node[key], dict | list):
            break
        node = node[key]
    if isinstance(node, dict) and node:
        node[list(node)[path[-1] % len(node)]] = value
    elif isinstance(node, list) and node:
        node[path[-1] % len(node)] = value
    return doc


def check(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "owners" / "fuzz"
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        try:
            prepare(load_owner("fuzz", Path(tmp) / "owners"))
        except BadInput as exc:
            assert str(exc) and "\n" not in str(exc).strip()


def base() -> dict[str, bytes]:
    return {
        "owner.yaml": yaml.safe_dump(OWNER).encode(),
        "mapping.json": json.dumps(MAPPING).encode(),
        "task_settings.json": json.dumps(SETTINGS).encode(),
    }


paths = st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=6)


@FUZZ
@given(
    name=st.sampled_from(["owner.yaml", "mapping.json", "task_settings.json"]), data=st.binary(max_size=300)
)
def test_any_bytes_in_any_owner_file(name: str, data: bytes) -> None:
    check({**base(), name: data})


@FUZZ
@given(path=paths, value=values)
def test_any_value_anywhere_in_owner_yaml(path: list[int], value: Any) -> None:
    check({**base(), "owner.yaml": yaml.safe_dump(mutate(OWNER, path, value)).encode()})


@FUZZ
@given(path=paths, value=values)
def test_any_value_anywhere_in_mapping_json(path: list[int], value: Any) -> None:
    check({**base(), "mapping.json": json.dumps(mutate(MAPPING, path, value)).encode()})


@FUZZ
@given(path=paths, value=values, key=st.text(max_size=20))
def test_any_value_anywhere_in_task_settings_json(path: list[int], value: Any, key: str) -> None:
    doc = mutate(SETTINGS, path, value)
    doc[key or "Logging"] = value
    check({**base(), "task_settings.json": json.dumps(doc).encode()})
