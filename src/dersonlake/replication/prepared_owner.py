"""From an owner's files to the things a task needs: source connection, parsed mapping and settings,
lake storage, catalog and plan. The CLI, the demo and the DMS-intake path all start here, so an
owner is validated the same way whichever door it comes through.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dersonlake.config import Owner, S3Settings, SourceConfig
from dersonlake.errors import OperationFailed
from dersonlake.lake import Storage, open_storage
from dersonlake.mapping import Mapping, Plan, TaskSettings, parse_mapping, parse_task_settings, resolve
from dersonlake.sources import Catalog, ConnectionParams, discover_catalog

SandboxParams = Callable[[Sequence[str]], ConnectionParams]
"""How a ``source.sandbox: true`` owner reaches the private MariaDB of ``derson-lake sandbox``
(given the databases to read). The CLI and ``serve`` own the sandbox and pass
``dersonlake.sandbox.sandbox_params``; replication never knows where or how the sandbox runs."""


@dataclass(frozen=True)
class PreparedOwner:
    """An owner's files parsed: its ``owner.yaml``, mapping and task settings (what a task of the
    owner reads and writes, resolved on demand)."""

    owner: Owner
    mapping: Mapping
    settings: TaskSettings
    sandbox: SandboxParams | None = None

    @property
    def s3(self) -> S3Settings:
        return self.owner.target.s3

    def source(self) -> ConnectionParams:
        return source_params(self.owner.source, self.sandbox)

    def storage(self) -> Storage:
        """The lake, which records the owner's Iceberg catalog (or its absence) for every writer."""
        t = self.owner.target
        storage = open_storage(t.uri if t.is_s3 else t.folder, endpoint_url=t.endpoint_url, region=t.region)
        publish_tables(storage, self.iceberg_catalog())
        return storage

    def iceberg_catalog(self) -> dict[str, str] | None:
        """Properties of the owner's Iceberg catalog (None: ``target.tables`` is not ``iceberg``)."""
        t = self.owner.target
        if t.tables != "iceberg":
            return None
        from dersonlake.lake import catalog_properties

        return catalog_properties(
            t.uri if t.is_s3 else t.folder, catalog=t.catalog, endpoint_url=t.endpoint_url, region=t.region
        )

    def catalog(self, params: ConnectionParams | None = None) -> Catalog:
        return discover_catalog(params or self.source(), self.owner.source.databases)

    def plan(self, catalog: Catalog, migration_type: str | None = None) -> Plan:
        return resolve(
            self.mapping,
            catalog,
            self.settings,
            migration_type=migration_type or self.owner.migration_type,
            file=self.owner.mapping_file,
        )

    @property
    def task_identifier(self) -> str:
        """The owner's task name: DMS identifier rules (letters, digits, single hyphens)."""
        ident = re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9]", "-", self.owner.name)).strip("-").lower()
        return ident if ident[:1].isalpha() else f"owner-{ident}"


def publish_tables(storage: Storage, props: dict[str, str] | None) -> None:
    """Record the Iceberg catalog in the lake when opted in; forget it when opted out."""
    from dersonlake.lake import CONFIG_KEY, publish

    if props is None:
        try:
            recorded = storage.list(CONFIG_KEY)
        except Exception:  # an unreachable lake: the caller's own check says so in one line
            return
        if not recorded:
            return  # the common case: no Iceberg tables, nothing recorded
    else:
        storage.check_writable()  # a missing bucket or folder: one line, before anything is written
    publish(storage, props)


def prepare(owner: Owner, sandbox: SandboxParams | None = None) -> PreparedOwner:
    """Parse the owner's mapping and settings (BadInput names the file and JSON path)."""
    mapping = parse_mapping(owner.mapping, file=owner.mapping_file)
    settings = parse_task_settings(owner.task_settings, file=owner.settings_file)
    return PreparedOwner(owner, mapping, settings, sandbox)


def source_params(source: SourceConfig, sandbox: SandboxParams | None = None) -> ConnectionParams:
    """Connection parameters of an owner's source; ``sandbox: true`` asks ``sandbox`` for them."""
    if source.sandbox:
        if sandbox is None:
            raise OperationFailed(
                "the owner reads the sandbox (source.sandbox: true), which only the derson-lake "
                "command and `derson-lake serve` reach; run it through them, or set source.host, "
                "port and user in owner.yaml"
            )
        return dataclasses.replace(
            sandbox(source.databases),
            connect_timeout=float(source.connect_timeout),
            read_timeout=float(source.read_timeout),
            write_timeout=float(source.write_timeout),
        )
    return ConnectionParams(
        host=source.host,
        port=source.port,
        user=source.user,
        password=source.password(),
        databases=source.databases,
        connect_timeout=float(source.connect_timeout),
        read_timeout=float(source.read_timeout),
        write_timeout=float(source.write_timeout),
    )
