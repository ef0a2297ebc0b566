"""Where an owner's CDC resumes: its checkpoint, one document kept in the owner's lake.

It is kept next to the data it describes, at ``<lake>/_derson-lake/checkpoints/<owner>.json`` (an
S3 object ``s3://<BucketName>/<BucketFolder>/_derson-lake/...`` for S3 lakes, a file for local
ones): the checkpoint says up to which binlog position the lake is current, so it lives and dies
with the lake. A lake wiped by hand loses its checkpoint too, and the next ``delta`` run starts
with a full load, which is what such a lake needs. The ``_`` prefix keeps Athena/Glue (which skip
``_``/``.`` objects) and derson-lake's own lake listing from taking it for a table.

Two writers, one document:

* the replication task runner (``dersonlake.replication``) writes it whatever started the task
  (``load``, ``load --delta``, ``stream``, ``run``, the local DMS API), after the files it covers
  are committed, with the details it resumes from (``cdc``: each lake table's newest CDC file
  name, the table definitions the lake has);
* the DMS-intake handler saves the finished task's ``RecoveryCheckpoint`` before ``delete_task``
  (AWS DMS forgets it with the task). When that is the position already recorded, the document
  is left as it is, so the runner's details survive.

Format 2 (this version)::

    {"format": 2, "owner": "acme", "RecoveryCheckpoint": "mysql-bin.000003:1234",
     "task": "<task ARN>", "saved_at": 1764000000.0,
     "cdc": {"file": ..., "pos": ..., "gtid": ..., "stems": {...}, "schemas": {...}, "saved": ...}}

Format 1 (no ``format`` key, no ``cdc``) is read as is: the position, no details. A document of a
later format, or one that is not a checkpoint, is refused with a message saying what to do.

Only boto3, the standard library and ``dersonlake.config`` are used: this runs in the Lambda package.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from dersonlake.config import Owner

FOLDER = "_derson-lake/checkpoints"
FORMAT = 2


def checkpoint_key(folder: str, owner: str) -> str:
    """The one rule: the checkpoint's key under a bucket (or path under a local lake root)."""
    name = f"{FOLDER}/{owner}.json"
    folder = folder.strip("/")
    return f"{folder}/{name}" if folder else name


@dataclass(frozen=True)
class Lake:
    """Where a task's target endpoint writes: ``bucket`` None for a local folder (``folder`` is then
    a path). ``endpoint_url`` None is AWS (or ``AWS_ENDPOINT_URL_S3``, which boto3 reads). On AWS the
    intake takes it from Terraform's ``DERSON_LAKES`` (the same bucket and folder as the owner's S3
    endpoint and its IAM policy: docs/aws.md, "Where the checkpoint lives"), never from a local path
    in owner.yaml."""

    bucket: str | None
    folder: str
    endpoint_url: str | None = None
    region: str | None = None

    @classmethod
    def of_uri(cls, uri: str, endpoint_url: str | None = None, region: str | None = None) -> Lake:
        if not uri.startswith("s3://"):
            raise ValueError(f"{uri!r} is not an s3://bucket/folder URI")
        bucket, _, folder = uri[5:].partition("/")
        return cls(bucket, folder.strip("/"), endpoint_url, region)

    @classmethod
    def of_owner(cls, owner: Owner) -> Lake:
        """The lake of an owner whose target endpoint is made from owner.yaml (local runs)."""
        t = owner.target
        return cls(t.bucket if t.is_s3 else None, t.folder, t.endpoint_url, t.region)


class CheckpointStore:
    """The saved CDC checkpoint of one owner's lake: ``load``, ``save``, ``clear``, ``location``
    (``lake``: where its target endpoint writes; default: the owner's ``target``)."""

    def __init__(self, owner: Owner, lake: Lake | None = None) -> None:
        self.owner = owner
        self.lake = lake or Lake.of_owner(owner)
        self.key = checkpoint_key(self.lake.folder if self.lake.bucket is not None else "", owner.name)
        self._s3: Any = None

    @property
    def location(self) -> str:
        if self.lake.bucket is not None:
            return f"s3://{self.lake.bucket}/{self.key}"
        return str(Path(self.lake.folder) / self.key)

    def load(self) -> dict[str, Any] | None:
        """The document (``RecoveryCheckpoint``, ``task``, ``saved_at``, maybe ``cdc``), or None.

        Raises ``ValueError`` naming the object and the fix when it is not a checkpoint this
        version can read."""
        try:
            text = self._read()
        except FileNotFoundError:
            return None
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or not isinstance(doc.get("RecoveryCheckpoint"), str):
            raise ValueError(
                f"{self.location} is not a derson-lake checkpoint; delete it to start over with a full "
                "load, or restore the file a previous run wrote"
            )
        version = doc.get("format", 1)
        if not isinstance(version, int) or version > FORMAT:
            raise ValueError(
                f"{self.location} was written by a newer derson-lake (checkpoint format {version}, this "
                f"version reads up to {FORMAT}); upgrade derson-lake, or delete the file to start over "
                "with a full load"
            )
        cdc = doc.get("cdc")
        if cdc is not None and not (isinstance(cdc, dict) and {"file", "pos"} <= set(cdc)):
            raise ValueError(
                f"{self.location}: 'cdc' is not a checkpoint's details (needs file and pos); delete the "
                "file to start over with a full load, or restore the file a previous run wrote"
            )
        return doc

    def save(self, checkpoint: str, task_arn: str, *, cdc: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record ``checkpoint`` (``RecoveryCheckpoint``) as where the next run resumes.

        Without ``cdc`` (the intake, after a task) a document that already records this position
        is kept as it is: it carries the runner's details."""
        if cdc is None:
            try:
                current = self.load()
            except ValueError:
                current = None
            if current is not None and current["RecoveryCheckpoint"] == checkpoint:
                return current
        doc: dict[str, Any] = {
            "format": FORMAT,
            "owner": self.owner.name,
            "RecoveryCheckpoint": checkpoint,
            "task": task_arn,
            "saved_at": time.time(),
        }
        if cdc is not None:
            doc["cdc"] = cdc
        self._write(json.dumps(doc, sort_keys=True))
        return doc

    def clear(self) -> None:
        """Forget the checkpoint (a full load starts: a delta must not apply onto a half-loaded lake)."""
        if self.lake.bucket is not None:
            self._client().delete_object(Bucket=self.lake.bucket, Key=self.key)
        else:
            (Path(self.lake.folder) / self.key).unlink(missing_ok=True)

    # -- storage -----------------------------------------------------------------------------------
    def _client(self) -> Any:
        if self._s3 is None:
            lake = self.lake
            self._s3 = boto3.client("s3", endpoint_url=lake.endpoint_url, region_name=lake.region)
        return self._s3

    def _read(self) -> str:
        if self.lake.bucket is None:
            return (Path(self.lake.folder) / self.key).read_text()
        # List the key first: S3 answers a GetObject of a missing key with AccessDenied unless the
        # caller may list the bucket unconditioned, and the Lambda may list only this prefix.
        listed = self._client().list_objects_v2(Bucket=self.lake.bucket, Prefix=self.key, MaxKeys=1)
        if not any(item["Key"] == self.key for item in listed.get("Contents", [])):
            raise FileNotFoundError(self.location)
        try:
            body = self._client().get_object(Bucket=self.lake.bucket, Key=self.key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(self.location) from None
            raise
        return body.read().decode()

    def _write(self, text: str) -> None:
        if self.lake.bucket is not None:  # a PUT is atomic: readers see the old object or the new one
            self._client().put_object(Bucket=self.lake.bucket, Key=self.key, Body=text.encode())
            return
        path = Path(self.lake.folder) / self.key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, staged = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(staged, path)
        except BaseException:
            Path(staged).unlink(missing_ok=True)
            raise
