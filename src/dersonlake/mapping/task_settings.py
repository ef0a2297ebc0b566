"""DMS task settings (``ReplicationTaskSettings``): the full default document, deep merge, validation.

DMS merges the settings a user supplies over its defaults and returns the whole document from
Describe (reference/dms.md §2); we do the same so ``derson-lake`` and AWS show identical JSON.
Every known key is validated by the type of its default (plus the enums and ranges DMS documents);
an unknown key is an error with did-you-mean rather than a silent no-op. Enum values are accepted
case-insensitively with ``-``/``_`` equivalence (dms.md §7.1) and stored in DMS's spelling.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dersonlake.errors import BadInput
from dersonlake.mapping.shape import check_keys, child, expect_list, expect_object, type_name

LOG_COMPONENTS = (
    "TRANSFORMATION",
    "SOURCE_UNLOAD",
    "IO",
    "TARGET_LOAD",
    "PERFORMANCE",
    "SOURCE_CAPTURE",
    "SORTER",
    "REST_SERVER",
    "VALIDATOR_EXT",
    "TARGET_APPLY",
    "TASK_MANAGER",
    "TABLES_MANAGER",
    "METADATA_MANAGER",
    "FILE_FACTORY",
    "COMMON",
    "ADDONS",
    "DATA_STRUCTURE",
    "COMMUNICATION",
    "FILE_TRANSFER",
)
SEVERITIES = (
    "LOGGER_SEVERITY_ERROR",
    "LOGGER_SEVERITY_WARNING",
    "LOGGER_SEVERITY_INFO",
    "LOGGER_SEVERITY_DEFAULT",
    "LOGGER_SEVERITY_DEBUG",
    "LOGGER_SEVERITY_DETAILED_DEBUG",
)
_RECORD_POLICIES = ("IGNORE_RECORD", "LOG_ERROR", "SUSPEND_TABLE", "STOP_TASK")

DEFAULTS: dict[str, Any] = {
    "TargetMetadata": {
        "TargetSchema": "",
        "SupportLobs": True,
        "FullLobMode": False,
        "LobChunkSize": 0,
        "LimitedSizeLobMode": True,
        "LobMaxSize": 32,
        "InlineLobMaxSize": 0,
        "LoadMaxFileSize": 0,
        "ParallelLoadThreads": 0,
        "ParallelLoadBufferSize": 0,
        "ParallelLoadQueuesPerThread": 0,
        "ParallelApplyThreads": 0,
        "ParallelApplyBufferSize": 0,
        "ParallelApplyQueuesPerThread": 0,
        "BatchApplyEnabled": False,
        "TaskRecoveryTableEnabled": False,
    },
    "FullLoadSettings": {
        "TargetTablePrepMode": "DROP_AND_CREATE",
        "CreatePkAfterFullLoad": False,
        "StopTaskCachedChangesApplied": False,
        "StopTaskCachedChangesNotApplied": False,
        "MaxFullLoadSubTasks": 8,
        "TransactionConsistencyTimeout": 600,
        "CommitRate": 10000,
    },
    "TTSettings": {"EnableTT": False, "TTS3Settings": None, "TTRecordSettings": None},
    "Logging": {
        "EnableLogging": False,
        "EnableLogContext": False,
        "LogComponents": [{"Id": c, "Severity": "LOGGER_SEVERITY_DEFAULT"} for c in LOG_COMPONENTS],
        "CloudWatchLogGroup": None,
        "CloudWatchLogStream": None,
    },
    "ControlTablesSettings": {
        "ControlSchema": "",
        "HistoryTimeslotInMinutes": 5,
        "HistoryTableEnabled": False,
        "SuspendedTablesTableEnabled": False,
        "StatusTableEnabled": False,
        "FullLoadExceptionTableEnabled": False,
    },
    "StreamBufferSettings": {
        "StreamBufferCount": 3,
        "StreamBufferSizeInMB": 8,
        "CtrlStreamBufferSizeInMB": 5,
    },
    "ChangeProcessingDdlHandlingPolicy": {
        "HandleSourceTableDropped": True,
        "HandleSourceTableTruncated": True,
        "HandleSourceTableAltered": True,
    },
    "ErrorBehavior": {
        "DataErrorPolicy": "LOG_ERROR",
        "DataTruncationErrorPolicy": "LOG_ERROR",
        "DataMaskingErrorPolicy": "STOP_TASK",
        "DataErrorEscalationPolicy": "SUSPEND_TABLE",
        "DataErrorEscalationCount": 0,
        "EventErrorPolicy": "IGNORE",
        "TableErrorPolicy": "SUSPEND_TABLE",
        "TableErrorEscalationPolicy": "STOP_TASK",
        "TableErrorEscalationCount": 0,
        "RecoverableErrorCount": -1,
        "RecoverableErrorInterval": 5,
        "RecoverableErrorThrottling": True,
        "RecoverableErrorThrottlingMax": 1800,
        "RecoverableErrorStopRetryAfterThrottlingMax": True,
        "ApplyErrorDeletePolicy": "IGNORE_RECORD",
        "ApplyErrorInsertPolicy": "LOG_ERROR",
        "ApplyErrorUpdatePolicy": "LOG_ERROR",
        "ApplyErrorEscalationPolicy": "LOG_ERROR",
        "ApplyErrorEscalationCount": 0,
        "ApplyErrorFailOnTruncationDdl": False,
        "FullLoadIgnoreConflicts": True,
        "FailOnTransactionConsistencyBreached": False,
        "FailOnNoTablesCaptured": True,
    },
    "ChangeProcessingTuning": {
        "BatchApplyPreserveTransaction": True,
        "BatchApplyTimeoutMin": 1,
        "BatchApplyTimeoutMax": 30,
        "BatchApplyMemoryLimit": 500,
        "BatchSplitSize": 0,
        "MinTransactionSize": 1000,
        "CommitTimeout": 1,
        "MemoryLimitTotal": 1024,
        "MemoryKeepTime": 60,
        "StatementCacheSize": 50,
        "RecoveryTimeout": -1,
    },
    "ValidationSettings": {
        "EnableValidation": False,
        "ValidationMode": "ROW_LEVEL",
        "ThreadCount": 5,
        "PartitionSize": 10000,
        "FailureMaxCount": 10000,
        "RecordFailureDelayInMinutes": 5,
        "RecordSuspendDelayInMinutes": 30,
        "MaxKeyColumnSize": 8096,
        "TableFailureMaxCount": 1000,
        "ValidationOnly": False,
        "HandleCollationDiff": False,
        "RecordFailureDelayLimitInMinutes": 0,
        "SkipLobColumns": False,
        "ValidationPartialLobSize": 0,
        "ValidationQueryCdcDelaySeconds": 0,
    },
    "BeforeImageSettings": None,
    "LoopbackPreventionSettings": None,
    "CharacterSetSettings": None,
    "PostProcessingRules": None,
    "FailTaskWhenCleanTaskResourceFailed": False,
}

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("FullLoadSettings", "TargetTablePrepMode"): ("DO_NOTHING", "DROP_AND_CREATE", "TRUNCATE_BEFORE_LOAD"),
    ("ErrorBehavior", "DataErrorPolicy"): _RECORD_POLICIES,
    ("ErrorBehavior", "DataTruncationErrorPolicy"): _RECORD_POLICIES,
    ("ErrorBehavior", "DataMaskingErrorPolicy"): _RECORD_POLICIES,
    ("ErrorBehavior", "DataErrorEscalationPolicy"): ("SUSPEND_TABLE", "STOP_TASK"),
    ("ErrorBehavior", "EventErrorPolicy"): ("IGNORE", "STOP_TASK"),
    ("ErrorBehavior", "TableErrorPolicy"): ("SUSPEND_TABLE", "STOP_TASK"),
    ("ErrorBehavior", "TableErrorEscalationPolicy"): ("STOP_TASK",),
    ("ErrorBehavior", "ApplyErrorDeletePolicy"): _RECORD_POLICIES,
    ("ErrorBehavior", "ApplyErrorInsertPolicy"): (*_RECORD_POLICIES, "INSERT_RECORD"),
    ("ErrorBehavior", "ApplyErrorUpdatePolicy"): (*_RECORD_POLICIES, "UPDATE_RECORD"),
    ("ErrorBehavior", "ApplyErrorEscalationPolicy"): _RECORD_POLICIES,
    ("ValidationSettings", "ValidationMode"): ("ROW_LEVEL",),
}
RANGES: dict[tuple[str, str], tuple[int, int]] = {
    ("FullLoadSettings", "MaxFullLoadSubTasks"): (1, 49),
    ("FullLoadSettings", "CommitRate"): (1, 50000),
    ("FullLoadSettings", "TransactionConsistencyTimeout"): (0, 2**31 - 1),
    ("TargetMetadata", "LobMaxSize"): (0, 2**31 - 1),
    ("TargetMetadata", "InlineLobMaxSize"): (0, 2**31 - 1),
    ("TargetMetadata", "LobChunkSize"): (0, 2**31 - 1),
    ("ErrorBehavior", "RecoverableErrorCount"): (-1, 2**31 - 1),
    ("ErrorBehavior", "RecoverableErrorInterval"): (0, 2**31 - 1),
    ("ErrorBehavior", "RecoverableErrorThrottlingMax"): (0, 2**31 - 1),
}
READ_ONLY = {("Logging", "CloudWatchLogGroup"), ("Logging", "CloudWatchLogStream")}
# AWS returns this lower-case duplicate from Describe; accept it on input (round trips) and ignore it.
IGNORED = {("ControlTablesSettings", "historyTimeslotInMinutes")}
BEFORE_IMAGE_KEYS = {
    "EnableBeforeImage": bool,
    "FieldName": str,
    "ColumnFilter": ("pk-only", "non-lob", "all"),
}


@dataclass(frozen=True)
class ErrorBehavior:
    """The ``ErrorBehavior`` section as typed fields (policy names in DMS's upper-case spelling)."""

    data_error_policy: str
    data_truncation_error_policy: str
    data_masking_error_policy: str
    data_error_escalation_policy: str
    data_error_escalation_count: int
    table_error_policy: str
    table_error_escalation_policy: str
    table_error_escalation_count: int
    event_error_policy: str
    recoverable_error_count: int
    recoverable_error_interval: int
    recoverable_error_throttling: bool
    recoverable_error_throttling_max: int
    recoverable_error_stop_retry_after_throttling_max: bool
    apply_error_delete_policy: str
    apply_error_insert_policy: str
    apply_error_update_policy: str
    apply_error_escalation_policy: str
    apply_error_escalation_count: int
    apply_error_fail_on_truncation_ddl: bool
    full_load_ignore_conflicts: bool
    fail_on_transaction_consistency_breached: bool
    fail_on_no_tables_captured: bool


@dataclass(frozen=True)
class TaskSettings:
    """The merged, validated settings document. ``document`` is the full JSON object; the properties
    are the settings the engine acts on."""

    document: Mapping[str, Any]

    def get(self, section: str, key: str) -> Any:
        return self.document[section][key]

    def to_json(self, *, indent: int | None = None) -> str:
        """The full document as DMS's Describe returns it (``ReplicationTaskSettings``)."""
        return json.dumps(self.document, indent=indent, separators=None if indent else (",", ":"))

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(dict(self.document))

    @property
    def max_full_load_subtasks(self) -> int:
        return self.get("FullLoadSettings", "MaxFullLoadSubTasks")

    @property
    def commit_rate(self) -> int:
        return self.get("FullLoadSettings", "CommitRate")

    @property
    def target_table_prep_mode(self) -> str:
        return self.get("FullLoadSettings", "TargetTablePrepMode")

    @property
    def transaction_consistency_timeout(self) -> int:
        return self.get("FullLoadSettings", "TransactionConsistencyTimeout")

    @property
    def stop_task_cached_changes_applied(self) -> bool:
        return self.get("FullLoadSettings", "StopTaskCachedChangesApplied")

    @property
    def stop_task_cached_changes_not_applied(self) -> bool:
        return self.get("FullLoadSettings", "StopTaskCachedChangesNotApplied")

    @property
    def support_lobs(self) -> bool:
        return self.get("TargetMetadata", "SupportLobs")

    @property
    def full_lob_mode(self) -> bool:
        return self.get("TargetMetadata", "FullLobMode")

    @property
    def limited_size_lob_mode(self) -> bool:
        return self.get("TargetMetadata", "LimitedSizeLobMode")

    @property
    def lob_max_size_kb(self) -> int:
        return self.get("TargetMetadata", "LobMaxSize")

    @property
    def inline_lob_max_size_kb(self) -> int:
        return self.get("TargetMetadata", "InlineLobMaxSize")

    @property
    def lob_chunk_size_kb(self) -> int:
        return self.get("TargetMetadata", "LobChunkSize")

    @property
    def batch_apply_enabled(self) -> bool:
        return self.get("TargetMetadata", "BatchApplyEnabled")

    @property
    def fail_on_no_tables_captured(self) -> bool:
        return self.get("ErrorBehavior", "FailOnNoTablesCaptured")

    @property
    def handle_source_table_dropped(self) -> bool:
        return self.get("ChangeProcessingDdlHandlingPolicy", "HandleSourceTableDropped")

    @property
    def handle_source_table_truncated(self) -> bool:
        return self.get("ChangeProcessingDdlHandlingPolicy", "HandleSourceTableTruncated")

    @property
    def handle_source_table_altered(self) -> bool:
        return self.get("ChangeProcessingDdlHandlingPolicy", "HandleSourceTableAltered")

    @property
    def memory_limit_total_mb(self) -> int:
        return self.get("ChangeProcessingTuning", "MemoryLimitTotal")

    @property
    def memory_keep_time_s(self) -> int:
        return self.get("ChangeProcessingTuning", "MemoryKeepTime")

    @property
    def error_behavior(self) -> ErrorBehavior:
        eb = self.document["ErrorBehavior"]
        return ErrorBehavior(**{_snake(k): eb[k] for k in DEFAULTS["ErrorBehavior"]})


def _snake(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return out.replace("_d_d_l", "_ddl")


def default_task_settings() -> TaskSettings:
    return TaskSettings(copy.deepcopy(DEFAULTS))


def load_task_settings(path: str | Path | None) -> TaskSettings:
    """Read a (partial) task-settings JSON file and merge it over the defaults; None gives the defaults."""
    if path is None:
        return default_task_settings()
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read the task-settings file: {exc.strerror or exc}", file=file) from None
    return parse_task_settings(text, file=file)


def parse_task_settings(
    doc: str | bytes | Mapping[str, Any] | None, *, file: str | None = None, base: TaskSettings | None = None
) -> TaskSettings:
    """Validate partial settings (JSON text or a dict) and deep-merge them over ``base`` (the defaults)."""
    merged = copy.deepcopy(dict((base or default_task_settings()).document))
    if doc is None or doc == "":
        return TaskSettings(merged)
    try:
        if isinstance(doc, str | bytes):
            try:
                doc = json.loads(doc)
            except json.JSONDecodeError as exc:
                raise BadInput(
                    f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                ) from None
        root = expect_object(doc, "", "a JSON object of settings sections")
        check_keys(root, "", DEFAULTS, what="settings section")
        for section, value in root.items():
            _merge_section(merged, section, value)
        if merged["Logging"]["EnableLogContext"] and not merged["Logging"]["EnableLogging"]:
            raise BadInput(
                "EnableLogContext needs EnableLogging true", path="Logging.EnableLogContext", value=True
            )
    except BadInput as err:
        raise err.located(file=file) from None
    return TaskSettings(merged)


def merge_task_settings(base: TaskSettings, partial: Mapping[str, Any] | str) -> TaskSettings:
    """``partial`` deep-merged over ``base`` (as ModifyReplicationTask does)."""
    return parse_task_settings(partial, base=base)


def _merge_section(merged: dict[str, Any], section: str, value: Any) -> None:
    default = DEFAULTS[section]
    if not isinstance(default, dict):
        if section == "BeforeImageSettings":
            merged[section] = _before_image(value, section)
        elif default is None:
            if value is not None and not isinstance(value, dict | list):
                raise BadInput(
                    f"must be an object or null, not {type_name(value)}", path=section, value=value
                )
            merged[section] = copy.deepcopy(value)
        else:
            merged[section] = _scalar(value, default, section, None)
        return
    if value is None:
        return
    obj = expect_object(value, section, "an object")
    allowed = [*default, *(k for s, k in IGNORED if s == section)]
    check_keys(obj, section, allowed, what=f"{section} key")
    for key, item in obj.items():
        path = child(section, key)
        if (section, key) in IGNORED:
            continue
        if (section, key) in READ_ONLY:
            if item is not None:
                raise BadInput(
                    "is read-only: AWS sets it when logging is enabled",
                    path=path,
                    value=item,
                    hint="remove it from the settings",
                )
            continue
        if key == "LogComponents":
            merged[section][key] = _log_components(merged[section][key], item, path)
        elif default[key] is None:
            if item is not None and not isinstance(item, dict):
                raise BadInput(f"must be an object or null, not {type_name(item)}", path=path, value=item)
            merged[section][key] = copy.deepcopy(item)
        else:
            merged[section][key] = _scalar(
                item, default[key], path, ENUMS.get((section, key)), RANGES.get((section, key))
            )


def _scalar(
    value: Any, default: Any, path: str, enum: tuple[str, ...] | None, bounds: tuple[int, int] | None = None
) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise BadInput(f"must be true or false, not {type_name(value)}", path=path, value=value)
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadInput(f"must be an integer, not {type_name(value)}", path=path, value=value)
        if bounds and not bounds[0] <= value <= bounds[1]:
            raise BadInput(f"must be between {bounds[0]} and {bounds[1]}", path=path, value=value)
        return value
    if not isinstance(value, str):
        raise BadInput(f"must be a string, not {type_name(value)}", path=path, value=value)
    return normalise_enum(value, enum, path) if enum else value


def normalise_enum(value: str, allowed: tuple[str, ...], path: str) -> str:
    """``value`` in DMS's spelling when it matches one of ``allowed`` ignoring case and ``-``/``_``."""
    key = value.strip().upper().replace("-", "_")
    for option in allowed:
        if option.upper().replace("-", "_") == key:
            return option
    raise BadInput("is not an allowed value", path=path, value=value, allowed=allowed)


def _log_components(current: list[dict[str, str]], value: Any, path: str) -> list[dict[str, str]]:
    """User entries replace the severity of the same component; the others keep theirs (DMS does this)."""
    items = expect_list(value, path)
    result = copy.deepcopy(current)
    for i, item in enumerate(items):
        ipath = child(path, i)
        obj = expect_object(item, ipath, "an object with Id and Severity")
        check_keys(obj, ipath, ("Id", "Severity"), ("Id", "Severity"))
        cid = normalise_enum(_string(obj["Id"], child(ipath, "Id")), LOG_COMPONENTS, child(ipath, "Id"))
        sev = _string(obj["Severity"], child(ipath, "Severity"))
        if not sev.upper().startswith("LOGGER_SEVERITY_"):
            sev = "LOGGER_SEVERITY_" + sev
        sev = normalise_enum(sev, SEVERITIES, child(ipath, "Severity"))
        for entry in result:
            if entry["Id"] == cid:
                entry["Severity"] = sev
    return result


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise BadInput(f"must be a string, not {type_name(value)}", path=path, value=value)
    return value


def _before_image(value: Any, path: str) -> dict[str, Any] | None:
    if value is None:
        return None
    obj = expect_object(value, path, "an object or null")
    check_keys(obj, path, BEFORE_IMAGE_KEYS)
    out: dict[str, Any] = {}
    for key, kind in BEFORE_IMAGE_KEYS.items():
        if key not in obj:
            continue
        item, kpath = obj[key], child(path, key)
        if kind is bool:
            out[key] = _scalar(item, False, kpath, None)
        elif kind is str:
            out[key] = _string(item, kpath)
        else:
            out[key] = normalise_enum(_string(item, kpath), kind, kpath).lower()  # type: ignore[arg-type]
    return out
