"""Where an owner's CDC resumes: its last ``RecoveryCheckpoint``, kept in the owner's lake.

The seed's flow deletes the replication task (and the instance) after every run so nothing idles,
and DMS forgets a task's ``RecoveryCheckpoint`` with the task (dms.md §5.1). The next ``delta`` run
must start where the last one stopped, so the intake saves the checkpoint before ``delete_task``.

It is kept next to the data it describes, at ``<lake>/_derson-lake/checkpoints/<owner>.json`` (an
S3 object for ``s3://`` lakes, a file for local ones): the checkpoint says up to which binlog
position the lake is current, so it lives and dies with the lake. A lake wiped by hand loses its
checkpoint too, and the next ``delta`` run starts with a full load, which is what such a lake needs.
The ``_`` prefix keeps Athena/Glue (which skip ``_``/``.`` objects) and derson-lake's own lake
listing from taking it for a table.

Only boto3 and the standard library are used: this runs in the Lambda package.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from dersonlake.config import Owner

FOLDER = "_derson-lake/checkpoints"


class CheckpointStore:
    """The saved CDC checkpoint of one owner's lake."""

    def __init__(self, owner: Owner) -> None:
        self.owner = owner
        target = owner.target
        name = f"{FOLDER}/{owner.name}.json"
        self.key = f"{target.folder}/{name}" if target.is_s3 and target.folder else name
        self._s3: Any = None

    @property
    def location(self) -> str:
        target = self.owner.target
        if target.is_s3:
            return f"s3://{target.bucket}/{self.key}"
        return str(Path(target.folder) / self.key)

    def load(self) -> dict[str, Any] | None:
        """``{"RecoveryCheckpoint": ..., "task": ..., "saved_at": ...}``, or None when there is none."""
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
        return doc

    def save(self, checkpoint: str, task_arn: str) -> dict[str, Any]:
        doc = {"RecoveryCheckpoint": checkpoint, "task": task_arn, "saved_at": time.time()}
        self._write(json.dumps(doc, sort_keys=True))
        return doc

    def clear(self) -> None:
        if self.owner.target.is_s3:
            self._client().delete_object(Bucket=self.owner.target.bucket, Key=self.key)
        else:
            (Path(self.owner.target.folder) / self.key).unlink(missing_ok=True)

    # -- storage -----------------------------------------------------------------------------------
    def _client(self) -> Any:
        if self._s3 is None:
            target = self.owner.target
            self._s3 = boto3.client("s3", endpoint_url=target.endpoint_url, region_name=target.region)
        return self._s3

    def _read(self) -> str:
        if not self.owner.target.is_s3:
            return (Path(self.owner.target.folder) / self.key).read_text()
        try:
            body = self._client().get_object(Bucket=self.owner.target.bucket, Key=self.key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(self.location) from None
            raise
        return body.read().decode()

    def _write(self, text: str) -> None:
        if self.owner.target.is_s3:  # a PUT is atomic: readers see the old object or the new one
            self._client().put_object(Bucket=self.owner.target.bucket, Key=self.key, Body=text.encode())
            return
        path = Path(self.owner.target.folder) / self.key
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
