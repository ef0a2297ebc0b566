"""DMS S3 target settings (``S3Settings``): names, types and enums from botocore's DMS model.

The key list, value types and enum values come from the service model botocore ships, so what we
accept is what the AWS API accepts; the defaults are DMS's (``reference/dms.md`` §3.1; where DMS is
ambiguous, §7 says what we chose). Both spellings users meet are accepted: the API's
(``DataFormat: parquet``, ``ParquetVersion: parquet-2-0``) and the docs'/extra-connection-attribute
form (``dataFormat: PARQUET``, ``parquetVersion: PARQUET_2_0``); values come out in the API form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dersonlake.errors import BadInput

# DMS defaults (dms.md §3.1). CsvNullValue defaults to an empty unquoted field (dms.md §7.4).
DEFAULTS: dict[str, Any] = {
    "CsvRowDelimiter": "\n",
    "CsvDelimiter": ",",
    "CompressionType": "none",
    "EncryptionMode": "sse-s3",
    "DataFormat": "csv",
    "EncodingType": "rle-dictionary",
    "DictPageSizeLimit": 1024 * 1024,
    "RowGroupLength": 10000,
    "DataPageSize": 1024 * 1024,
    "ParquetVersion": "parquet-1-0",
    "EnableStatistics": True,
    "IncludeOpForFullLoad": False,
    "CdcInsertsOnly": False,
    "TimestampColumnName": "",
    "ParquetTimestampInMillisecond": False,
    "CdcInsertsAndUpdates": False,
    "DatePartitionEnabled": False,
    "DatePartitionSequence": "YYYYMMDD",
    "DatePartitionDelimiter": "SLASH",
    "UseCsvNoSupValue": False,
    "PreserveTransactions": False,
    "UseTaskStartTimeForFullLoadTimestamp": False,
    "CannedAclForObjects": "none",
    "AddColumnName": False,
    "CdcMaxBatchInterval": 60,
    "CdcMinFileSize": 32000,
    "CsvNullValue": "",
    "MaxFileSize": 1048576,
    "Rfc4180": True,
    "DatePartitionTimezone": "UTC",
    "AddTrailingPaddingCharacter": False,
    "GlueCatalogGeneration": False,
}

# Keys that the target URI decides, or that only make sense for S3 as a *source*.
_FROM_URI = {"BucketName", "BucketFolder"}
_SOURCE_ONLY = {"ExternalTableDefinition", "IgnoreHeaderRows"}


MODEL_FILE = Path(__file__).with_name("s3_settings_model.json")


@cache
def _model_members() -> dict[str, tuple[str, tuple[str, ...]]]:
    """``{Key: (type_name, enum values)}`` of the DMS ``S3Settings`` shape.

    Read from ``s3_settings_model.json``, extracted from botocore's DMS service model by
    ``python -m dersonlake.config.s3_settings`` (a test checks it still equals the installed
    botocore's): loading botocore's whole model costs ~0.25 s on every command.
    """
    doc = json.loads(MODEL_FILE.read_text())
    return {name: (m["type"], tuple(m["enum"])) for name, m in doc["members"].items()}


def extract_model() -> dict[str, Any]:
    """The installed botocore's DMS ``S3Settings`` shape, as ``s3_settings_model.json`` holds it."""
    import botocore
    import botocore.session

    shape = botocore.session.get_session().get_service_model("dms").shape_for("S3Settings")
    members = {
        n: {"type": m.type_name, "enum": list(getattr(m, "enum", None) or ())}
        for n, m in shape.members.items()
    }
    return {"source": f"botocore {botocore.__version__} dms 2016-01-01 S3Settings", "members": members}


def _norm_enum(value: str) -> str:
    return value.strip().lower().replace("_", "-")


def _coerce(key: str, value: Any, type_name: str, enum: tuple[str, ...], file: str | None, path: str) -> Any:
    if type_name == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"true", "y", "yes", "false", "n", "no"}:
            return value.strip().lower() in {"true", "y", "yes"}
        raise BadInput("expected a boolean", file=file, path=path, value=value, hint="Use true or false")
    if type_name == "integer":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise BadInput("expected an integer", file=file, path=path, value=value)
        try:
            return int(value)
        except ValueError:
            raise BadInput("expected an integer", file=file, path=path, value=value) from None
    if not isinstance(value, str):
        raise BadInput("expected a string", file=file, path=path, value=value)
    if enum:
        by_norm = {_norm_enum(e): e for e in enum}
        canonical = by_norm.get(_norm_enum(value))
        if canonical is None:
            raise BadInput(f"not a valid {key}", file=file, path=path, value=value, allowed=enum)
        return canonical
    return value


@dataclass(frozen=True)
class S3Settings:
    """The S3 target settings the lake writers honour, with DMS defaults filled in.

    ``api`` keeps the whole normalized document (every key the user gave, in API spelling) so it
    can be handed to DMS as ``S3Settings`` unchanged; the attributes are typed views of it.
    """

    api: dict[str, Any] = field(default_factory=dict, compare=False)

    def __getattr__(self, name: str) -> Any:  # e.g. settings.DataFormat
        if name in DEFAULTS or name in _model_members():
            return self.api.get(name, DEFAULTS.get(name))
        raise AttributeError(name)

    @property
    def extension(self) -> str:
        """File extension DMS uses: ``csv``, ``csv.gz`` or ``parquet`` (gzip lives inside Parquet)."""
        if self.DataFormat == "parquet":
            return "parquet"
        return "csv.gz" if self.CompressionType == "gzip" else "csv"

    def describe(self) -> dict[str, Any]:
        """Every setting with its effective value, as DMS's describe shows an endpoint."""
        return {**DEFAULTS, **self.api}


def normalize_s3_settings(raw: Any, *, file: str | None = None, path: str = "s3_settings") -> S3Settings:
    """Validate user S3 settings (either spelling) into :class:`S3Settings`; BadInput names the key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadInput("expected a mapping of DMS S3 settings", file=file, path=path, value=raw)
    members = _model_members()
    by_lower = {k.lower(): k for k in members}
    out: dict[str, Any] = {}
    for given, value in raw.items():
        key = by_lower.get(str(given).lower())
        where = f"{path}.{given}"
        if key is None:
            raise BadInput("unknown S3 setting", file=file, path=where, value=given, allowed=sorted(members))
        if key in _FROM_URI:
            raise BadInput(
                f"{key} comes from the target URI",
                file=file,
                path=where,
                hint="Set target.uri to s3://bucket/folder instead",
            )
        if key in _SOURCE_ONLY:
            raise BadInput(f"{key} applies to S3 as a source only", file=file, path=where)
        if key in out:
            raise BadInput("setting given twice (in two spellings)", file=file, path=where, value=given)
        type_name, enum = members[key]
        if value is None:
            continue
        out[key] = _coerce(key, value, type_name, enum, file, where)
    _check_combinations(out, file, path)
    return S3Settings(api=out)


def _check_combinations(s: dict[str, Any], file: str | None, path: str) -> None:
    """The cross-key rules DMS enforces (dms.md §3.1, §3.5)."""

    def get(key: str) -> Any:
        return s.get(key, DEFAULTS.get(key))

    if get("CdcInsertsOnly") and get("CdcInsertsAndUpdates"):
        raise BadInput(
            "CdcInsertsOnly and CdcInsertsAndUpdates cannot both be true",
            file=file,
            path=f"{path}.CdcInsertsAndUpdates",
            hint="Keep one of them",
        )
    if get("PreserveTransactions"):
        if not get("CdcPath"):
            raise BadInput("PreserveTransactions needs CdcPath", file=file, path=f"{path}.CdcPath")
        for key in ("DatePartitionEnabled", "AddColumnName", "GlueCatalogGeneration"):
            if get(key):
                raise BadInput(
                    f"{key} cannot be combined with PreserveTransactions", file=file, path=f"{path}.{key}"
                )
    size = get("MaxFileSize")
    if not 1 <= size <= 1048576:
        raise BadInput(
            "MaxFileSize is in KB, from 1 to 1048576", file=file, path=f"{path}.MaxFileSize", value=size
        )
    for key in (
        "CdcMaxBatchInterval",
        "CdcMinFileSize",
        "RowGroupLength",
        "DataPageSize",
        "DictPageSizeLimit",
    ):
        if get(key) < 1:
            raise BadInput(f"{key} must be at least 1", file=file, path=f"{path}.{key}", value=get(key))
    if len(get("CsvDelimiter")) < 1:
        raise BadInput("CsvDelimiter must not be empty", file=file, path=f"{path}.CsvDelimiter")
    try:
        ZoneInfo(get("DatePartitionTimezone"))
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(
            "unknown time zone",
            file=file,
            path=f"{path}.DatePartitionTimezone",
            value=get("DatePartitionTimezone"),
            hint="Use an Area/Location name such as UTC or America/Sao_Paulo",
        ) from None


def setting_names() -> list[str]:
    """All S3 setting names, for docs and did-you-mean."""
    return sorted(_model_members())


__all__ = ["DEFAULTS", "S3Settings", "normalize_s3_settings", "setting_names"]

if __name__ == "__main__":  # regenerate s3_settings_model.json after a botocore upgrade
    MODEL_FILE.write_text(json.dumps(extract_model(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {MODEL_FILE}")
