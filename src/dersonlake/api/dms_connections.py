"""TestConnection and DescribeConnections (reference/dms.md §5.2): the server really connects.

As on AWS, TestConnection answers at once with ``Status: testing`` and the test runs in the
background; DescribeConnections then shows ``successful``, or ``failed`` with the server's error in
``LastFailureMessage`` (boto3's ``test_connection_succeeds`` waiter polls it). The instance must be
``available`` (else ``InvalidResourceStateFault``).

Where the connection settings come from, for a MySQL/MariaDB/Aurora source endpoint:

* an endpoint tagged ``derson-lake:owner`` (as DMS-intake creates them) uses that owner's source,
  exactly what a task on it will read (the sandbox included);
* otherwise ``ServerName``, ``Port``, ``Username`` and the ``Password`` given to CreateEndpoint or
  ModifyEndpoint, which is kept in this process's memory only (never stored, never described);
  after a restart a password-protected endpoint fails with a message saying to set it again;
* credentials in Secrets Manager cannot be read here: ``failed``, saying so;
* the server connects only to the sources of configured owners (the ``host:port`` of an
  ``owner.yaml`` in the owners folder, or the sandbox's): otherwise TestConnection would let any
  caller probe any host and port reachable from this machine.

An S3 target endpoint of an owner checks that the owner's lake can be written; other engines fail
with a message naming what is supported.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from dersonlake.api.dms_resources import AVAILABLE, Resources
from dersonlake.api.dms_worker import OWNER_TAG
from dersonlake.api.protocol import ApiError
from dersonlake.errors import DersonError
from dersonlake.replication import ReplicationStore

Params = dict[str, Any]
MYSQL_ENGINES = ("mysql", "mariadb", "aurora")
FILTERS = {"endpoint-arn": "endpoint_arn", "replication-instance-arn": "instance_arn"}


class Connections:
    def __init__(
        self,
        store: ReplicationStore,
        resources: Resources,
        tags: Any,
        owners_dir: str | Path | None = None,
    ) -> None:
        self.store = store
        self.resources = resources
        self.tags = tags
        self.owners_dir = owners_dir
        self._passwords: dict[str, str] = {}

    def remember_password(self, endpoint_arn: str, password: str | None) -> None:
        if password:
            self._passwords[endpoint_arn] = password

    def forget_endpoint(self, endpoint_arn: str) -> None:
        self._passwords.pop(endpoint_arn, None)
        self.store.forget_connections(endpoint_arn=endpoint_arn)

    def forget_instance(self, instance_arn: str) -> None:
        self.store.forget_connections(instance_arn=instance_arn)

    # -- operations --------------------------------------------------------------------------------
    def test_connection(self, p: Params) -> dict[str, Any]:
        # Like StartReplicationTask, a test does not move a creating instance on: its status as stored.
        instance = self.resources._instance_row(p["ReplicationInstanceArn"])
        endpoint = self.resources._endpoint_row(p["EndpointArn"])
        if instance["status"] != AVAILABLE:
            raise ApiError(
                "InvalidResourceStateFault",
                f"Replication instance {instance['identifier']} is {instance['status']}, not available",
            )
        self._record(instance["arn"], endpoint["arn"], "testing", None)
        thread = threading.Thread(
            target=self._test, args=(instance["arn"], endpoint), name="test-connection", daemon=True
        )
        thread.start()
        return {"Connection": self._describe(self._row(instance["arn"], endpoint["arn"]))}

    def describe_connections(self, p: Params) -> dict[str, Any]:
        rows = self.store.connections()
        for f in p.get("Filters", []):
            column = FILTERS.get(f["Name"])
            if column is None:
                raise ApiError(
                    "InvalidParameterValueException",
                    f"Invalid filter name {f['Name']!r}; allowed: {', '.join(FILTERS)}",
                )
            rows = [r for r in rows if r[column] in f["Values"]]
        return {"Connections": [self._describe(r) for r in rows]}

    # -- the test itself ---------------------------------------------------------------------------
    def _test(self, instance_arn: str, endpoint: Any) -> None:
        try:
            self._check(endpoint)
        except (DersonError, ApiError) as exc:
            message = exc.message if isinstance(exc, ApiError) else str(exc)
            self._record(instance_arn, endpoint["arn"], "failed", message)
            return
        except Exception as exc:  # a bug or an unexpected driver error: still an answer for the client
            self._record(instance_arn, endpoint["arn"], "failed", f"{type(exc).__name__}: {exc}")
            return
        self._record(instance_arn, endpoint["arn"], "successful", None)

    def _check(self, endpoint: Any) -> None:
        from dersonlake.lake import open_storage
        from dersonlake.replication import source_params
        from dersonlake.sandbox import sandbox_params
        from dersonlake.sources import ConnectionParams, probe

        params = json.loads(endpoint["params"])
        engine = endpoint["engine_name"].lower()
        owner = self.tags.of(endpoint["arn"]).get(OWNER_TAG)
        if engine == "s3":
            if not owner:
                raise ApiError("", "an S3 endpoint is tested through its owner (tag derson-lake:owner)")
            t = self._owner(owner).target
            storage = open_storage(
                t.uri if t.is_s3 else t.folder, endpoint_url=t.endpoint_url, region=t.region
            )
            storage.check_writable()
            return
        if engine not in MYSQL_ENGINES:
            raise ApiError("", f"TestConnection supports {', '.join(MYSQL_ENGINES)} and s3 endpoints")
        if owner:
            connection = source_params(self._owner(owner).source, sandbox_params)
        else:
            settings = params.get("MySQLSettings") or {}
            if settings.get("SecretsManagerSecretId") and not params.get("ServerName"):
                raise ApiError(
                    "",
                    "the endpoint's credentials are in AWS Secrets Manager, which derson-lake serve cannot "
                    "read; give ServerName, Port, Username and Password (ModifyEndpoint)",
                )
            host = params.get("ServerName") or settings.get("ServerName")
            if not host:
                raise ApiError("", "the endpoint has no ServerName")
            port = int(params.get("Port") or settings.get("Port") or 3306)
            if (host.lower().rstrip("."), port) not in self._configured_sources():
                raise ApiError(
                    "",
                    f"{host}:{port} is not the source of any owner: derson-lake serve tests connections only "
                    "to the sources configured in owners/<owner>/owner.yaml (tag the endpoint "
                    f"{OWNER_TAG} with its owner)",
                )
            password = self._passwords.get(endpoint["arn"], "")
            connection = ConnectionParams(
                host=host,
                port=port,
                user=params.get("Username") or settings.get("Username") or "",
                password=password,
                connect_timeout=10,
            )
        probe(connection)

    def _configured_sources(self) -> set[tuple[str, int]]:
        """(host, port) of every owner's source, the sandbox's for ``sandbox: true`` owners; owners
        whose files do not load are left out (their own commands report why)."""
        from dersonlake.config import list_owners, load_owner
        from dersonlake.sandbox import Sandbox, default_dir

        found: set[tuple[str, int]] = set()
        for name in list_owners(self.owners_dir):
            try:
                source = load_owner(name, self.owners_dir).source
            except DersonError:
                continue
            if source.sandbox:
                port = Sandbox(default_dir())._port_or_none()
                found |= {(h, port) for h in ("127.0.0.1", "localhost")} if port else set()
            else:
                found.add((source.host.lower().rstrip("."), source.port))
        return found

    def _owner(self, owner: str) -> Any:
        from dersonlake.config import load_owner

        return load_owner(owner, self.owners_dir)

    # -- storage -----------------------------------------------------------------------------------
    def _record(self, instance_arn: str, endpoint_arn: str, state: str, message: str | None) -> None:
        self.store.record_connection(instance_arn, endpoint_arn, state, message)

    def _row(self, instance_arn: str, endpoint_arn: str) -> Any:
        return self.store.connection(instance_arn, endpoint_arn)

    def _describe(self, row: Any) -> dict[str, Any]:
        out = {
            "ReplicationInstanceArn": row["instance_arn"],
            "EndpointArn": row["endpoint_arn"],
            "Status": row["status"],
        }
        endpoint = self.store.endpoint(row["endpoint_arn"])
        instance = self.store.instance(row["instance_arn"])
        if endpoint:
            out["EndpointIdentifier"] = endpoint["identifier"]
        if instance:
            out["ReplicationInstanceIdentifier"] = instance["identifier"]
        if row["message"]:
            out["LastFailureMessage"] = row["message"]
        return out
