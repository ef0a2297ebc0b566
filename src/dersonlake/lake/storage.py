"""Where lake objects live: a local folder or an S3 bucket (AWS, MinIO, any endpoint URL).

One interface for both, built around one guarantee: an object is visible whole or not at all.
Writers produce a file in a *staging* path first; ``commit`` then makes it visible atomically
(``os.replace`` locally; a single PUT or a completed multipart upload on S3, which S3 exposes only
once complete). A crash leaves at most staged leftovers, which are hidden (dot-prefixed, ignored by
Athena/Glue/Spark) or outside the lake, and are removed by ``clean_staging``; on S3 the leftovers are
incomplete multipart uploads, invisible but billed, which ``clean_staging`` aborts.

Every S3 failure leaves this module as an ``OperationFailed``, never as a botocore exception: a
lost or refused connection reads "lost connection to the S3 endpoint <url> ..." so the task's
``RecoverableError*`` policy retries it (full load, CDC, stream alike) and, when retries run out,
the CLI prints one line and exits 1. botocore's own quick retries are logged as WARNINGs naming the
endpoint and the attempt, so a short outage is visible even when it heals by itself.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dersonlake.errors import OperationFailed

STAGING_MARK = ".derson-staging-"
# botocore's quick retries of one request (connection errors, 5xx, throttling) before ours take over
S3_ATTEMPTS = 5
log = logging.getLogger("dersonlake.STORAGE")


@dataclass(frozen=True)
class StoredObject:
    key: str  # relative to the lake root
    size: int
    modified: float | None = field(default=None, compare=False)  # epoch seconds, when the store says


class Storage(ABC):
    """A lake root. Keys are ``/``-separated and relative to the root (the BucketFolder on S3)."""

    uri: str

    @abstractmethod
    def stage(self, key: str) -> Path:
        """A local path to write the future object ``key`` to."""

    @abstractmethod
    def commit(self, staged: Path, key: str) -> None:
        """Make ``staged`` visible as ``key`` in one step; the staged file is consumed."""

    @abstractmethod
    def list(self, prefix: str) -> list[StoredObject]:
        """Committed objects under ``prefix`` (a folder prefix; no staged files), sorted by key."""

    @abstractmethod
    def delete(self, keys: list[str]) -> None: ...

    @abstractmethod
    def read_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def check_writable(self) -> None:
        """Fail now, with one clear line, if objects cannot be written here."""

    def clean_staging(self, prefix: str = "") -> int:
        """Remove what crashed writers left under ``prefix`` (never a committed object)."""
        return 0

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under the folder ``prefix``; returns how many."""
        keys = [o.key for o in self.list(prefix)]
        if keys:
            self.delete(keys)
        return len(keys)

    @staticmethod
    def discard(staged: Path) -> None:
        staged.unlink(missing_ok=True)


class LocalStorage(Storage):
    """A folder on local disk. Staged files sit beside their final name, dot-prefixed, so the rename
    is atomic (same directory, same filesystem)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def stage(self, key: str) -> Path:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        return final.with_name(f"{STAGING_MARK}{uuid.uuid4().hex[:12]}-{final.name}")

    def commit(self, staged: Path, key: str) -> None:
        final = self._path(key)
        with open(staged, "rb") as fh:  # data on disk before the name points at it
            os.fsync(fh.fileno())
        os.replace(staged, final)
        _fsync_dir(final.parent)

    def list(self, prefix: str) -> list[StoredObject]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        out = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith(STAGING_MARK):
                    continue
                full = Path(dirpath) / name
                st = full.stat()
                out.append(StoredObject(full.relative_to(self.root).as_posix(), st.st_size, st.st_mtime))
        return sorted(out, key=lambda o: o.key)

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)
        for parent in sorted({self._path(k).parent for k in keys}, key=lambda p: -len(p.parts)):
            _remove_empty_dirs(parent, self.root)

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def check_writable(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=STAGING_MARK):
                pass
        except OSError as exc:
            raise OperationFailed(
                f"the lake folder {self.root} is not writable: {exc.strerror}. "
                "Fix its permissions or point target.uri elsewhere"
            ) from None

    def clean_staging(self, prefix: str = "") -> int:
        """Remove staged leftovers of a crashed writer under ``prefix``."""
        base = self._path(prefix)
        count = 0
        if base.is_dir():
            for dirpath, _dirs, files in os.walk(base):
                for name in files:
                    if name.startswith(STAGING_MARK):
                        (Path(dirpath) / name).unlink(missing_ok=True)
                        count += 1
        return count


class S3Storage(Storage):
    """An S3 bucket and folder. Files are staged on local disk and uploaded with boto3, whose
    multipart upload becomes visible only when completed; credentials come from the standard AWS
    chain (environment, profile, instance role)."""

    def __init__(
        self,
        bucket: str,
        folder: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        staging_dir: Path | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.folder = folder.strip("/")
        self.uri = f"s3://{bucket}/{self.folder}".rstrip("/")
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(retries={"max_attempts": S3_ATTEMPTS, "mode": "standard"}),
        )
        self.endpoint = self.client.meta.endpoint_url
        self.client.meta.events.register("needs-retry.s3", self._log_retry)
        self._staging = staging_dir
        self._opened = time.time()  # multipart uploads started before this are no writer's of ours
        # S3 reports an upload's start to the second and its clock may differ from ours a little:
        # only uploads started this long before the lake was opened count as stale.
        self.stale_margin = 5.0

    def _log_retry(
        self, attempts: int, operation: Any, response: Any = None, caught_exception: Any = None, **_: Any
    ) -> None:
        """botocore is about to decide on a retry: say what failed, where, and which attempt it was."""
        status = (response[1] or {}).get("ResponseMetadata", {}).get("HTTPStatusCode") if response else None
        if caught_exception is None and (status is None or status < 500):
            return
        reason = _s3_reason(caught_exception) if caught_exception is not None else f"HTTP {status}"
        log.warning(
            "S3 endpoint %s: %s failed (%s); attempt %d of %d",
            self.endpoint,
            getattr(operation, "name", operation),
            reason,
            attempts,
            S3_ATTEMPTS,
        )

    def _failed(self, what: str, exc: Exception) -> OperationFailed:
        """Our error for a failed S3 call; connection failures say so, so they are retried."""
        if _is_connection_failure(exc):
            return OperationFailed(
                f"lost connection to the S3 endpoint {self.endpoint} while {what}: {_s3_reason(exc)}; "
                "it was retried and is still unreachable (check the network and the endpoint URL)"
            )
        return OperationFailed(f"{what} failed at the S3 endpoint {self.endpoint}: {_s3_reason(exc)}")

    def _key(self, key: str) -> str:
        return f"{self.folder}/{key}" if self.folder else key

    def stage(self, key: str) -> Path:
        if self._staging is None:
            from dersonlake.home import derson_home

            self._staging = derson_home() / "staging"
        self._staging.mkdir(parents=True, exist_ok=True)
        return self._staging / f"{STAGING_MARK}{uuid.uuid4().hex[:12]}-{Path(key).name}"

    def commit(self, staged: Path, key: str) -> None:
        full = self._key(key)
        try:
            self.client.upload_file(str(staged), self.bucket, full, Config=self.transfer)
        except Exception as exc:
            self._abort_uploads(full, exact=True)  # a failed multipart upload must not bill its parts
            raise self._failed(f"uploading s3://{self.bucket}/{full}", exc) from None
        finally:
            staged.unlink(missing_ok=True)

    @property
    def transfer(self) -> Any:
        """boto3's transfer settings (multipart above 8 MiB, its default); tests lower the threshold."""
        if getattr(self, "_transfer", None) is None:
            from boto3.s3.transfer import TransferConfig

            self._transfer = TransferConfig()
        return self._transfer

    @transfer.setter
    def transfer(self, config: Any) -> None:
        self._transfer = config

    def clean_staging(self, prefix: str = "") -> int:
        """Abort the incomplete multipart uploads under ``prefix`` that were started before this
        storage was opened: a killed writer's, whose parts S3 bills until they are aborted."""
        full = self._key(prefix).rstrip("/") + "/" if (prefix or self.folder) else ""
        return self._abort_uploads(full, exact=False, before=self._opened - self.stale_margin)

    def _abort_uploads(self, prefix: str, *, exact: bool, before: float | None = None) -> int:
        count = 0
        try:
            for page in self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                for upload in page.get("Uploads", []):
                    if exact and upload["Key"] != prefix:
                        continue
                    started = upload.get("Initiated")
                    if before is not None and started is not None and started.timestamp() >= before:
                        continue
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    count += 1
        except Exception as exc:
            if exact:  # already failing: the lifecycle rule or the next run's cleanup aborts it
                log.warning(
                    "could not abort the failed upload of s3://%s/%s: %s",
                    self.bucket,
                    prefix,
                    _s3_reason(exc),
                )
                return count
            raise self._failed(
                f"aborting stale multipart uploads under s3://{self.bucket}/{prefix}", exc
            ) from None
        if count and not exact:
            log.info("aborted %d incomplete multipart upload(s) under s3://%s/%s", count, self.bucket, prefix)
        return count

    def list(self, prefix: str) -> list[StoredObject]:
        full = self._key(prefix).rstrip("/") + "/"
        out = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full
            ):
                for item in page.get("Contents", []):
                    rel = item["Key"][len(self.folder) + 1 :] if self.folder else item["Key"]
                    stamp = item.get("LastModified")
                    out.append(StoredObject(rel, item["Size"], stamp.timestamp() if stamp else None))
        except Exception as exc:
            raise self._failed(f"listing s3://{self.bucket}/{full}", exc) from None
        return sorted(out, key=lambda o: o.key)

    def delete(self, keys: list[str]) -> None:
        """Delete ``keys``; S3's per-key errors (DeleteObjects answers 200 with ``Errors``) fail it."""
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": self._key(k)} for k in keys[start : start + 1000]]
            try:
                done = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True}
                )
            except Exception as exc:
                raise self._failed(f"deleting {len(chunk)} object(s) in s3://{self.bucket}", exc) from None
            errors = done.get("Errors") or []
            if errors:
                shown = "; ".join(
                    f"{e.get('Key')}: {e.get('Code')} {e.get('Message') or ''}".strip() for e in errors[:3]
                )
                more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
                raise OperationFailed(
                    f"S3 did not delete {len(errors)} of {len(chunk)} object(s) in s3://{self.bucket}: "
                    f"{shown}{more}; check the bucket policy and object locks, then run again"
                )

    def read_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except Exception as exc:
            raise self._failed(f"reading s3://{self.bucket}/{self._key(key)}", exc) from None

    def check_writable(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            if _is_connection_failure(exc):
                raise self._failed(f"checking the bucket {self.bucket!r}", exc) from None
            reason = _s3_reason(exc)
            hint = (
                "create it first or fix target.uri"
                if "404" in reason or "NoSuchBucket" in reason
                else ("check the AWS credentials and the bucket policy")
            )
            raise OperationFailed(f"the bucket {self.bucket!r} is not usable ({reason}): {hint}") from None


def open_storage(uri: str, *, endpoint_url: str | None = None, region: str | None = None) -> Storage:
    """The storage behind a target URI: ``s3://bucket/folder`` or a local folder path."""
    if uri.startswith("s3://"):
        bucket, _, folder = uri[5:].partition("/")
        return S3Storage(bucket, folder, endpoint_url=endpoint_url, region=region)
    return LocalStorage(uri)


def _is_connection_failure(exc: BaseException) -> bool:
    """A request that never got an answer (refused, reset, cut, timed out), possibly wrapped by
    boto3's transfer manager (S3UploadFailedError keeps only the text)."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError, ReadTimeoutError

    if isinstance(exc, BotoConnectionError | HTTPClientError | ReadTimeoutError | ConnectionError):
        return True
    text = str(exc)
    words = ("Could not connect", "Connection was closed", "Read timeout", "Connect timeout", "reset by peer")
    return any(w in text for w in words) or isinstance(exc.__cause__ or exc.__context__, BotoConnectionError)


def _s3_reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error", {})
        code = err.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"{code} {err.get('Message') or ''}".strip()
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_empty_dirs(path: Path, stop: Path) -> None:
    while path != stop and stop in path.parents:
        try:
            path.rmdir()
        except OSError:
            return
        path = path.parent


__all__ = ["LocalStorage", "S3Storage", "Storage", "StoredObject", "open_storage"]
