"""Task settings: the full default document, deep merge, validation, typed accessors."""

from __future__ import annotations

import json

import pytest

from dersonlake.errors import BadInput
from dersonlake.mapping import (
    default_task_settings,
    load_task_settings,
    merge_task_settings,
    parse_task_settings,
)
from dersonlake.mapping.task_settings import LOG_COMPONENTS

F = "owners/acme/task_settings.json"


def test_defaults_are_the_full_document_describe_returns() -> None:
    doc = json.loads(default_task_settings().to_json())
    assert list(doc) == [
        "TargetMetadata",
        "FullLoadSettings",
        "TTSettings",
        "Logging",
        "ControlTablesSettings",
        "StreamBufferSettings",
        "ChangeProcessingDdlHandlingPolicy",
        "ErrorBehavior",
        "ChangeProcessingTuning",
        "ValidationSettings",
        "BeforeImageSettings",
        "LoopbackPreventionSettings",
        "CharacterSetSettings",
        "PostProcessingRules",
        "FailTaskWhenCleanTaskResourceFailed",
    ]
    assert [c["Id"] for c in doc["Logging"]["LogComponents"]] == list(LOG_COMPONENTS)
    assert len(LOG_COMPONENTS) == 19
    assert doc["FullLoadSettings"] == {
        "TargetTablePrepMode": "DROP_AND_CREATE",
        "CreatePkAfterFullLoad": False,
        "StopTaskCachedChangesApplied": False,
        "StopTaskCachedChangesNotApplied": False,
        "MaxFullLoadSubTasks": 8,
        "TransactionConsistencyTimeout": 600,
        "CommitRate": 10000,
    }
    assert doc["ErrorBehavior"]["RecoverableErrorCount"] == -1
    assert doc["ErrorBehavior"]["DataErrorEscalationCount"] == 0
    assert doc["TargetMetadata"]["LobMaxSize"] == 32
    assert doc["Logging"]["CloudWatchLogGroup"] is None


def test_deep_merge_keeps_untouched_keys() -> None:
    s = parse_task_settings(
        {"FullLoadSettings": {"MaxFullLoadSubTasks": 16}, "ErrorBehavior": {"DataErrorPolicy": "STOP_TASK"}}
    )
    assert (s.max_full_load_subtasks, s.commit_rate, s.target_table_prep_mode) == (
        16,
        10000,
        "DROP_AND_CREATE",
    )
    assert s.error_behavior.data_error_policy == "STOP_TASK"
    assert s.error_behavior.apply_error_insert_policy == "LOG_ERROR"
    assert s.get("ValidationSettings", "ThreadCount") == 5


def test_merge_over_a_previous_document_like_modify() -> None:
    first = parse_task_settings({"FullLoadSettings": {"CommitRate": 500}})
    second = merge_task_settings(first, {"FullLoadSettings": {"MaxFullLoadSubTasks": 2}})
    assert (second.commit_rate, second.max_full_load_subtasks) == (500, 2)
    assert first.max_full_load_subtasks == 8  # the base is not changed


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("truncate_before_load", "TRUNCATE_BEFORE_LOAD"),
        ("do-nothing", "DO_NOTHING"),
        ("Drop_And_Create", "DROP_AND_CREATE"),
    ],
)
def test_enums_case_insensitive_with_dash_underscore(given: str, expected: str) -> None:
    assert (
        parse_task_settings({"FullLoadSettings": {"TargetTablePrepMode": given}}).target_table_prep_mode
        == expected
    )


def test_log_components_merge_by_id() -> None:
    s = parse_task_settings(
        {
            "Logging": {
                "EnableLogging": True,
                "LogComponents": [
                    {"Id": "source_capture", "Severity": "LOGGER_SEVERITY_DEBUG"},
                    {"Id": "TARGET_LOAD", "Severity": "info"},
                ],
            }
        }
    )
    comps = {c["Id"]: c["Severity"] for c in s.document["Logging"]["LogComponents"]}
    assert len(comps) == 19
    assert comps["SOURCE_CAPTURE"] == "LOGGER_SEVERITY_DEBUG"
    assert comps["TARGET_LOAD"] == "LOGGER_SEVERITY_INFO"
    assert comps["IO"] == "LOGGER_SEVERITY_DEFAULT"


def test_accessors() -> None:
    s = parse_task_settings(
        {
            "FullLoadSettings": {"StopTaskCachedChangesApplied": True, "TargetTablePrepMode": "DO_NOTHING"},
            "TargetMetadata": {"SupportLobs": False, "LobMaxSize": 64},
            "ErrorBehavior": {"FailOnNoTablesCaptured": False, "RecoverableErrorCount": 3},
            "ChangeProcessingDdlHandlingPolicy": {"HandleSourceTableTruncated": False},
        }
    )
    assert s.stop_task_cached_changes_applied and not s.stop_task_cached_changes_not_applied
    assert (s.support_lobs, s.lob_max_size_kb, s.limited_size_lob_mode, s.full_lob_mode) == (
        False,
        64,
        True,
        False,
    )
    assert (s.fail_on_no_tables_captured, s.error_behavior.recoverable_error_count) == (False, 3)
    assert (s.handle_source_table_truncated, s.handle_source_table_dropped) == (False, True)
    assert s.transaction_consistency_timeout == 600


def test_round_trip_of_a_describe_output() -> None:
    described = json.loads(default_task_settings().to_json())
    described["ControlTablesSettings"]["historyTimeslotInMinutes"] = 5
    assert parse_task_settings(described).document == default_task_settings().document


ERRORS = [
    (
        "unknown section",
        {"FullLoadSetting": {}},
        f"{F}: FullLoadSetting: unknown settings section (got 'FullLoadSetting'); did you mean "
        "'FullLoadSettings'?; allowed: "
        "TargetMetadata, FullLoadSettings, TTSettings, Logging, ControlTablesSettings, StreamBufferSettings, "
        "ChangeProcessingDdlHandlingPolicy, ErrorBehavior, ChangeProcessingTuning, ValidationSettings, "
        "BeforeImageSettings, "
        "LoopbackPreventionSettings, CharacterSetSettings, PostProcessingRules, "
        "FailTaskWhenCleanTaskResourceFailed",
    ),
    (
        "unknown key",
        {"FullLoadSettings": {"MaxFullLoadSubtasks": 4}},
        f"{F}: FullLoadSettings.MaxFullLoadSubtasks: unknown FullLoadSettings key (got "
        "'MaxFullLoadSubtasks'); did you mean "
        "'MaxFullLoadSubTasks'?; allowed: TargetTablePrepMode, CreatePkAfterFullLoad, "
        "StopTaskCachedChangesApplied, "
        "StopTaskCachedChangesNotApplied, MaxFullLoadSubTasks, TransactionConsistencyTimeout, CommitRate",
    ),
    (
        "wrong enum",
        {"FullLoadSettings": {"TargetTablePrepMode": "DROP_AND_CREAT"}},
        f"{F}: FullLoadSettings.TargetTablePrepMode: is not an allowed value (got 'DROP_AND_CREAT'); did "
        "you mean "
        "'DROP_AND_CREATE'?; allowed: DO_NOTHING, DROP_AND_CREATE, TRUNCATE_BEFORE_LOAD",
    ),
    (
        "wrong type",
        {"TargetMetadata": {"SupportLobs": "true"}},
        f"{F}: TargetMetadata.SupportLobs: must be true or false, not string (got 'true')",
    ),
    (
        "int as string",
        {"FullLoadSettings": {"CommitRate": "10000"}},
        f"{F}: FullLoadSettings.CommitRate: must be an integer, not string (got '10000')",
    ),
    (
        "out of range",
        {"FullLoadSettings": {"MaxFullLoadSubTasks": 50}},
        f"{F}: FullLoadSettings.MaxFullLoadSubTasks: must be between 1 and 49 (got 50)",
    ),
    (
        "read-only",
        {"Logging": {"CloudWatchLogGroup": "dms-tasks-x"}},
        f"{F}: Logging.CloudWatchLogGroup: is read-only: AWS sets it when logging is enabled (got "
        "'dms-tasks-x'). "
        "remove it from the settings",
    ),
    (
        "log context without logging",
        {"Logging": {"EnableLogContext": True}},
        f"{F}: Logging.EnableLogContext: EnableLogContext needs EnableLogging true (got True)",
    ),
    (
        "bad log component",
        {"Logging": {"LogComponents": [{"Id": "SORTR", "Severity": "LOGGER_SEVERITY_DEBUG"}]}},
        f"{F}: Logging.LogComponents[0].Id: is not an allowed value (got 'SORTR'); did you mean 'SORTER'?; "
        "allowed: "
        "TRANSFORMATION, SOURCE_UNLOAD, IO, TARGET_LOAD, PERFORMANCE, SOURCE_CAPTURE, SORTER, REST_SERVER, "
        "VALIDATOR_EXT, "
        "TARGET_APPLY, TASK_MANAGER, TABLES_MANAGER, METADATA_MANAGER, FILE_FACTORY, COMMON, ADDONS, "
        "DATA_STRUCTURE, "
        "COMMUNICATION, FILE_TRANSFER",
    ),
    (
        "insert policy",
        {"ErrorBehavior": {"ApplyErrorInsertPolicy": "UPDATE_RECORD"}},
        f"{F}: ErrorBehavior.ApplyErrorInsertPolicy: is not an allowed value (got 'UPDATE_RECORD'); did you "
        "mean "
        "'INSERT_RECORD'?; allowed: IGNORE_RECORD, LOG_ERROR, SUSPEND_TABLE, STOP_TASK, INSERT_RECORD",
    ),
    (
        "before image",
        {"BeforeImageSettings": {"EnableBeforeImage": True, "ColumnFilter": "pk"}},
        f"{F}: BeforeImageSettings.ColumnFilter: is not an allowed value (got 'pk'); allowed: pk-only, "
        "non-lob, all",
    ),
    ("not an object", ["x"], f"{F}: must be a JSON object of settings sections, not array (got ['x'])"),
]


@pytest.mark.parametrize(("doc", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_settings_errors(doc, message) -> None:
    with pytest.raises(BadInput) as err:
        parse_task_settings(doc, file=F)
    assert str(err.value) == message


def test_load_from_file(tmp_path) -> None:
    path = tmp_path / "task_settings.json"
    path.write_text('{"FullLoadSettings": {"CommitRate": 20000}}', encoding="utf-8")
    assert load_task_settings(path).commit_rate == 20000
    assert load_task_settings(None).commit_rate == 10000
    path.write_text("{", encoding="utf-8")
    with pytest.raises(BadInput, match=r"task_settings.json: is not valid JSON"):
        load_task_settings(path)
