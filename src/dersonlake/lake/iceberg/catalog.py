"""Which Iceberg catalog holds an owner's current-state tables, and where that choice is recorded.

A local lake needs no configuration: a SQL catalog on SQLite and the warehouse live inside the
lake, under ``_derson-lake/iceberg/`` (so moving or deleting the lake folder takes them along). A
lake on S3 names its catalog by URL in ``owner.yaml`` (``target.catalog``): ``glue`` (AWS Glue, the
catalog Athena reads), ``http(s)://...`` (an Iceberg REST catalog) or an SQLAlchemy URL
(``postgresql://...``, ``sqlite:///...``) for a SQL catalog; its warehouse is the lake's
``_derson-lake/iceberg/warehouse/`` prefix.

The resolved properties are written into the lake (``_derson-lake/iceberg.json``) when an owner is
prepared with ``target.tables: iceberg``, so every path that writes the lake (the CLI, the local DMS
API, the pipelines) finds them beside the data, as it finds the checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyiceberg.catalog import Catalog, load_catalog

from dersonlake.home import derson_home
from dersonlake.lake.storage import LocalStorage, Storage

CONFIG_KEY = "_derson-lake/iceberg.json"
CATALOG_NAME = "derson"
_ROOT = "_derson-lake/iceberg"


def catalog_properties(
    uri: str, *, catalog: str | None = None, endpoint_url: str | None = None, region: str | None = None
) -> dict[str, str]:
    """The properties for ``pyiceberg.catalog.load_catalog(name, **props)`` of a lake at ``uri``
    (a local folder, absolute, or ``s3://bucket/folder``); ``catalog`` is owner.yaml's URL."""
    if not uri.startswith("s3://"):
        root = Path(uri).resolve()
        return {
            "type": "sql",
            "uri": f"sqlite:///{root / _ROOT / 'catalog.db'}",
            "warehouse": (root / _ROOT / "warehouse").as_uri(),
        }
    props: dict[str, str] = {"warehouse": f"{uri.rstrip('/')}/{_ROOT}/warehouse"}
    if endpoint_url:
        props["s3.endpoint"] = endpoint_url
    if region:
        props["s3.region"] = region
    if catalog is None:
        raise ValueError("a lake on S3 needs target.catalog (glue, an https:// REST URL or a SQL URL)")
    if catalog == "glue":
        props["type"] = "glue"
        if region:
            props["glue.region"] = region
    elif catalog.startswith(("http://", "https://")):
        props.update(type="rest", uri=catalog)
    else:
        props.update(type="sql", uri=catalog)
    return props


def publish(storage: Storage, props: dict[str, str] | None) -> None:
    """Record (or, with None, remove) the lake's Iceberg catalog; nothing is written when unchanged."""
    current = configured(storage)
    if current == props:
        return
    if props is None:
        storage.delete([CONFIG_KEY])
        return
    staged = storage.stage(CONFIG_KEY)
    staged.write_text(json.dumps({"catalog": props}, indent=2, sort_keys=True))
    storage.commit(staged, CONFIG_KEY)


def configured(storage: Storage) -> dict[str, str] | None:
    """The lake's Iceberg catalog properties, or None when the owner did not opt in."""
    try:
        doc: dict[str, Any] = json.loads(storage.read_bytes(CONFIG_KEY))
    except (FileNotFoundError, KeyError):
        return None
    except Exception as exc:  # S3's NoSuchKey comes as a botocore ClientError
        if "NoSuchKey" in str(exc) or "404" in str(exc) or "Not Found" in str(exc):
            return None
        raise
    return dict(doc["catalog"])


def open_catalog(props: dict[str, str]) -> Catalog:
    if props.get("type") == "sql" and props["uri"].startswith("sqlite:///"):
        Path(props["uri"][len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    return load_catalog(CATALOG_NAME, **props)


def index_dir(storage: Storage) -> Path:
    """Where the key indexes (caches, see ``key_index``) live: in a local lake, else in $DERSON_HOME."""
    if isinstance(storage, LocalStorage):
        return Path(storage.root) / _ROOT / "index"
    uri = getattr(storage, "uri", "lake").replace("://", "/")
    return derson_home() / "iceberg-index" / uri
