"""An *owner*: the seed's unit, one source database and what to ingest from it into the lake.

``owners/<owner>/owner.yaml`` says where the data comes from and goes to; ``mapping.json`` and
``task_settings.json`` are DMS documents, unchanged from what AWS accepts. Passwords are never
inline: they come from an environment variable or a file, as Secrets Manager would hand them, and
are read only when a connection is opened.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dersonlake.config.s3_settings import S3Settings, normalize_s3_settings
from dersonlake.config.schedule import ScheduleConfig, parse_schedule
from dersonlake.config.shape import (
    MAX_DEPTH,
    expect_mapping,
    expect_type,
    load_json_file,
    read_text_file,
    too_deep,
)
from dersonlake.errors import BadInput

OWNER_FILE = "owner.yaml"
MAPPING_FILE = "mapping.json"
SETTINGS_FILE = "task_settings.json"

ENGINES = ("mysql", "mariadb", "aurora")
MIGRATION_TYPES = ("full-load", "cdc", "full-load-and-cdc")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")

_SOURCE_KEYS = (
    "engine",
    "sandbox",
    "host",
    "port",
    "user",
    "password_env",
    "password_file",
    "databases",
    "connect_timeout",
    "server_timezone",
    "read_timeout",
    "write_timeout",
)
# Seconds; sources/mysql/connection.py says what each bounds, docs/owners.md documents them.
TIMEOUT_DEFAULTS = {"connect_timeout": 10, "read_timeout": 120, "write_timeout": 60}
_MAX_TIMEOUT = 86_400
_TARGET_KEYS = ("uri", "endpoint_url", "region", "s3_settings", "tables", "catalog", "keys", "column_types")
COLUMN_TYPES = ("timestamptz", "wkb")  # target.column_types: what a Parquet type alone cannot tell
TABLE_FORMATS = ("none", "iceberg")  # target.tables: current-state tables beside the DMS files
_OWNER_KEYS = ("description", "source", "target", "migration_type", "schedule")


@dataclass(frozen=True)
class SourceConfig:
    """Where to read from. With ``sandbox: true`` host, port, user and password come from the
    private MariaDB of ``derson-lake sandbox`` (the sample owner uses this)."""

    engine: str
    databases: tuple[str, ...]
    sandbox: bool = False
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = ""
    password_env: str | None = None
    password_file: str | None = None
    connect_timeout: int = 10
    server_timezone: str | None = None
    file: str | None = field(default=None, compare=False)
    read_timeout: int = TIMEOUT_DEFAULTS["read_timeout"]
    write_timeout: int = TIMEOUT_DEFAULTS["write_timeout"]

    def password(self) -> str:
        """The password, read now from the environment or the file (never stored on the object)."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise BadInput(
                    f"environment variable {self.password_env} is not set",
                    file=self.file,
                    path="source.password_env",
                    hint=f"export {self.password_env}=... before running",
                )
            return value
        if self.password_file:
            path = Path(os.path.expandvars(self.password_file)).expanduser()
            try:
                return path.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise BadInput(
                    f"cannot read the password file: {exc.strerror}",
                    file=self.file,
                    path="source.password_file",
                    value=str(path),
                ) from None
        return ""


@dataclass(frozen=True)
class TargetConfig:
    """Where the lake is: a local folder or ``s3://bucket/folder`` (any endpoint URL)."""

    uri: str
    s3: S3Settings
    endpoint_url: str | None = None
    region: str | None = None
    tables: str = "none"  # "iceberg": a current-state Iceberg table per source table (docs/iceberg.md)
    catalog: str | None = None  # S3 lakes: the Iceberg catalog by URL (glue, https://..., a SQL URL)
    # "schema.table" (lake names) -> key columns, for the Iceberg step on AWS, which cannot ask the
    # source for its primary keys (docs/iceberg.md, "On AWS"); () = no key, no Iceberg table.
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # "schema.table.column" -> "timestamptz" (a MySQL TIMESTAMP) or "wkb" (a spatial column), ditto
    column_types: dict[str, str] = field(default_factory=dict)

    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")

    @property
    def bucket(self) -> str | None:
        return self.uri[5:].split("/", 1)[0] if self.is_s3 else None

    @property
    def folder(self) -> str:
        """The bucket folder (S3) or the absolute local folder path."""
        if self.is_s3:
            rest = self.uri[5:].split("/", 1)
            return rest[1].strip("/") if len(rest) > 1 else ""
        return str(Path(self.uri).expanduser().resolve())


@dataclass(frozen=True)
class Owner:
    """One owner's three files, loaded and shape-checked. ``mapping`` and ``task_settings`` are the
    raw DMS documents; the mapping layer validates their rules."""

    name: str
    dir: Path
    source: SourceConfig
    target: TargetConfig
    migration_type: str
    mapping: dict[str, Any]
    task_settings: dict[str, Any]
    description: str = ""
    schedule: ScheduleConfig | None = None  # None: runs only when started (run, aws stepfunctions ...)

    @property
    def mapping_file(self) -> str:
        return str(self.dir / MAPPING_FILE)

    @property
    def settings_file(self) -> str:
        return str(self.dir / SETTINGS_FILE)


def owners_dir(given: str | Path | None = None) -> Path:
    """``--owners-dir``, else ``$DERSON_OWNERS_DIR``, else ``./owners``."""
    return Path(given or os.environ.get("DERSON_OWNERS_DIR") or "owners").expanduser().resolve()


def list_owners(base: str | Path | None = None) -> list[str]:
    """Names of the owner folders that hold an ``owner.yaml``."""
    root = owners_dir(base)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / OWNER_FILE).is_file())


def load_owner(name: str, base: str | Path | None = None) -> Owner:
    """Load and shape-check ``<owners dir>/<name>/``; BadInput says which file and key is wrong."""
    root = owners_dir(base)
    folder = root / name
    if not (folder / OWNER_FILE).is_file():
        raise BadInput(
            f"unknown owner {name!r}: no {OWNER_FILE} in {folder}",
            value=name,
            allowed=list_owners(root),
            hint=f"Owners live in {root}/<owner>/ (use --owners-dir to point elsewhere)",
        )
    file = str(folder / OWNER_FILE)
    doc = _load_yaml(folder / OWNER_FILE)
    expect_mapping(doc, file=file, path="", allowed=_OWNER_KEYS, required=("source", "target"))
    migration_type = doc.get("migration_type", "full-load-and-cdc")
    if migration_type not in MIGRATION_TYPES:
        raise BadInput(
            "not a valid migration type",
            file=file,
            path="migration_type",
            value=migration_type,
            allowed=MIGRATION_TYPES,
        )
    mapping = load_json_file(folder / MAPPING_FILE, what="table mapping (mapping.json)")
    settings_path = folder / SETTINGS_FILE
    settings = load_json_file(settings_path, what="task settings") if settings_path.exists() else {}
    if not isinstance(mapping, dict):
        raise BadInput("expected a JSON object with a 'rules' array", file=str(folder / MAPPING_FILE))
    if not isinstance(settings, dict):
        raise BadInput("expected a JSON object of DMS task settings", file=str(settings_path))
    return Owner(
        name=name,
        dir=folder,
        source=_source(doc["source"], file),
        target=_target(doc["target"], file),
        migration_type=migration_type,
        mapping=mapping,
        task_settings=settings,
        description=str(doc.get("description") or ""),
        schedule=parse_schedule(doc["schedule"], file) if doc.get("schedule") is not None else None,
    )


def _load_yaml(path: Path) -> Any:
    text = read_text_file(path, what="owner file")
    try:
        doc = yaml.safe_load(text) or {}
    except RecursionError:
        raise BadInput(f"nested too deeply (more than {MAX_DEPTH} levels)", file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise BadInput(f"not valid YAML: {problem}{where}", file=str(path)) from None
    if too_deep(doc):
        raise BadInput(f"nested too deeply (more than {MAX_DEPTH} levels)", file=str(path))
    return doc


def _host(value: Any, file: str) -> str:
    """A host name (IDNA, labels of 1-63 letters, digits, hyphens) or an IP address: a name the
    resolver would choke on deep inside a connection is reported here, naming the key."""
    host = str(value).strip()
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host.strip("[]")
    except ValueError:
        pass
    try:
        ascii_name = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_name = ""
    labels = ascii_name.rstrip(".").split(".")
    if not ascii_name or len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise BadInput(
            "not a valid host name",
            file=file,
            path="source.host",
            value=host,
            hint="Use a DNS name (labels of 1-63 letters, digits or hyphens) or an IP address",
        )
    return host


def _source(raw: Any, file: str) -> SourceConfig:
    if isinstance(raw, dict) and "password" in raw:
        raise BadInput(
            "passwords are never written in owner.yaml",
            file=file,
            path="source.password",
            hint="Use password_env: VARIABLE or password_file: /path/to/file",
        )
    src = expect_mapping(
        raw, file=file, path="source", allowed=_SOURCE_KEYS, required=("engine", "databases")
    )
    engine = str(src["engine"]).lower()
    if engine not in ENGINES:
        raise BadInput(
            "not a supported source engine",
            file=file,
            path="source.engine",
            value=src["engine"],
            allowed=ENGINES,
        )
    databases = src["databases"]
    if isinstance(databases, str):
        databases = [databases]
    if not isinstance(databases, list) or not all(isinstance(d, str) and d for d in databases):
        raise BadInput(
            "expected a list of database names", file=file, path="source.databases", value=databases
        )
    if not databases:
        raise BadInput(
            "list at least one database",
            file=file,
            path="source.databases",
            value=databases,
            hint="An empty list would read every schema of the server; name the ones to replicate",
        )
    sandbox = bool(
        expect_type(src.get("sandbox", False), bool, file=file, path="source.sandbox", what="true/false")
    )
    if not sandbox:
        for key in ("host", "user"):
            if not src.get(key):
                raise BadInput(
                    "required key is missing",
                    file=file,
                    path=f"source.{key}",
                    hint="Or set sandbox: true to use the private MariaDB of `derson-lake sandbox`",
                )
        if src.get("password_env") and src.get("password_file"):
            raise BadInput(
                "give password_env or password_file, not both", file=file, path="source.password_file"
            )
    port = expect_type(src.get("port", 3306), int, file=file, path="source.port", what="a port number")
    if not 0 < port < 65536:
        raise BadInput("port out of range", file=file, path="source.port", value=port)
    timeouts = {key: _timeout(src, key, file) for key in TIMEOUT_DEFAULTS}
    return SourceConfig(
        engine=engine,
        databases=tuple(databases),
        sandbox=sandbox,
        host=_host(src["host"], file) if src.get("host") else "127.0.0.1",
        port=port,
        user=str(src.get("user") or ""),
        password_env=src.get("password_env"),
        password_file=src.get("password_file"),
        connect_timeout=timeouts["connect_timeout"],
        server_timezone=src.get("server_timezone"),
        file=file,
        read_timeout=timeouts["read_timeout"],
        write_timeout=timeouts["write_timeout"],
    )


def _timeout(src: dict[str, Any], key: str, file: str) -> int:
    """A timeout in whole seconds, 1 to a day: 0 or less would mean "wait forever" or nothing."""
    value = expect_type(
        src.get(key, TIMEOUT_DEFAULTS[key]),
        int,
        file=file,
        path=f"source.{key}",
        what="seconds as an integer",
    )
    if not 1 <= value <= _MAX_TIMEOUT:
        raise BadInput(
            f"a timeout must be between 1 and {_MAX_TIMEOUT} seconds",
            file=file,
            path=f"source.{key}",
            value=value,
            hint=f"The default is {TIMEOUT_DEFAULTS[key]}",
        )
    return value


def _target(raw: Any, file: str) -> TargetConfig:
    tgt = expect_mapping(raw, file=file, path="target", allowed=_TARGET_KEYS, required=("uri",))
    uri = expect_type(
        tgt["uri"], str, file=file, path="target.uri", what="a folder path or s3://bucket/folder"
    )
    if "://" in uri and not uri.startswith("s3://"):
        raise BadInput(
            "unsupported lake URI scheme",
            file=file,
            path="target.uri",
            value=uri,
            hint="Use a local folder path or s3://bucket/folder",
        )
    if uri.startswith("s3://") and not uri[5:].split("/", 1)[0]:
        raise BadInput("the S3 URI names no bucket", file=file, path="target.uri", value=uri)
    if not uri.startswith("s3://") and (tgt.get("endpoint_url") or tgt.get("region")):
        raise BadInput(
            "endpoint_url and region apply to s3:// targets only", file=file, path="target.endpoint_url"
        )
    tables = tgt.get("tables", "none")
    if tables not in TABLE_FORMATS:
        raise BadInput(
            "not a table format", file=file, path="target.tables", value=str(tables), allowed=TABLE_FORMATS
        )
    catalog = tgt.get("catalog")
    if catalog is not None:
        catalog = expect_type(
            catalog, str, file=file, path="target.catalog", what="glue, an https:// REST URL or a SQL URL"
        )
    if tables == "iceberg" and uri.startswith("s3://") and not catalog:
        raise BadInput(
            "an S3 lake with Iceberg tables needs a catalog",
            file=file,
            path="target.catalog",
            hint="Set target.catalog: glue (AWS Glue), an https:// Iceberg REST URL, or a SQL URL "
            "(postgresql://...); local lakes need none",
        )
    return TargetConfig(
        uri=uri,
        s3=normalize_s3_settings(tgt.get("s3_settings"), file=file, path="target.s3_settings"),
        endpoint_url=tgt.get("endpoint_url"),
        region=tgt.get("region"),
        tables=tables,
        catalog=catalog,
        keys=_keys(tgt.get("keys"), file),
        column_types=_column_types(tgt.get("column_types"), file),
    )


def _column_types(raw: Any, file: str) -> dict[str, str]:
    """``target.column_types``: ``{"schema.table.column": "timestamptz" | "wkb"}`` in lake names."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BadInput(
            "target.column_types must be a mapping of schema.table.column to a type",
            file=file,
            path="target.column_types",
            hint="e.g. column_types: {shop.orders.created_at: timestamptz, shop.places.geom: wkb}",
        )
    for name, kind in raw.items():
        if str(name).count(".") < 2:
            raise BadInput(
                "a column type needs its column as schema.table.column (the names in the lake)",
                file=file,
                path=f"target.column_types.{name}",
                value=str(name),
            )
        if kind not in COLUMN_TYPES:
            raise BadInput(
                "not a column type",
                file=file,
                path=f"target.column_types.{name}",
                value=str(kind),
                allowed=COLUMN_TYPES,
            )
    return {str(k): str(v) for k, v in raw.items()}


def _keys(raw: Any, file: str) -> dict[str, tuple[str, ...]]:
    """``target.keys``: ``{"schema.table": [column, ...]}`` in lake names ([] = the table has no key)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BadInput(
            "target.keys must be a mapping of schema.table to a list of key columns",
            file=file,
            path="target.keys",
            hint="e.g. keys: {shop.orders: [id], shop.events_log: []}",
        )
    out: dict[str, tuple[str, ...]] = {}
    for name, columns in raw.items():
        schema, dot, table = str(name).partition(".")
        if not (schema and dot and table):
            raise BadInput(
                "a key needs its table as schema.table (the names in the lake)",
                file=file,
                path=f"target.keys.{name}",
                value=str(name),
            )
        if not isinstance(columns, list) or not all(isinstance(c, str) and c for c in columns):
            raise BadInput(
                "a table's key is a list of column names ([] for a table without a key)",
                file=file,
                path=f"target.keys.{name}",
                value=str(columns),
            )
        out[str(name)] = tuple(columns)
    return out
