"""Structured logs: JSON lines off a terminal, readable lines on one, DMS component loggers,
Logging.LogComponents severities honoured, secrets redacted (library and a real CLI load)."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Iterator

import pytest

from dersonlake import logs
from dersonlake.errors import BadInput
from dersonlake.mapping.task_settings import LOG_COMPONENTS
from dersonlake.sources.mysql.connection import ConnectionParams
from tests.monitoring.helpers import derson
from tests.replication.conftest import write_owner


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``setup`` and severities change process-wide loggers: put them back."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    levels = {name: logging.getLogger(f"dersonlake.{name}").level for name in logs.COMPONENTS}
    top = logging.getLogger("dersonlake").level
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.getLogger("dersonlake").setLevel(top)
    for name, level in levels.items():
        logging.getLogger(f"dersonlake.{name}").setLevel(level)


def test_components_are_the_dms_log_components_plus_ours():
    assert logs.DMS_COMPONENTS == LOG_COMPONENTS
    assert logs.component("SOURCE_CAPTURE").name == "dersonlake.SOURCE_CAPTURE"
    with pytest.raises(ValueError, match="unknown log component 'SOURCE_CAPTUR'"):
        logs.component("SOURCE_CAPTUR")


def test_json_lines_when_the_stream_is_not_a_terminal(restore_logging):
    out = io.StringIO()
    logs.setup(out)
    logs.component("TARGET_LOAD").info("shop.orders: %d rows", 2000, extra={"owner": "acme", "task": "t1"})
    try:
        raise RuntimeError("disk full")
    except RuntimeError:
        logs.component("TARGET_APPLY").error("apply failed", exc_info=True)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["component"] == "TARGET_LOAD" and lines[0]["level"] == "INFO"
    assert lines[0]["message"] == "shop.orders: 2000 rows"
    assert lines[0]["owner"] == "acme" and lines[0]["task"] == "t1"
    assert lines[0]["ts"].endswith("+00:00")
    assert lines[1]["error"] == "RuntimeError: disk full" and lines[1]["stack"]


def test_readable_lines_on_a_terminal(restore_logging):
    master, slave = os.openpty()  # a real terminal
    with os.fdopen(slave, "w", buffering=1) as tty:
        logs.setup(tty)
        logs.component("SOURCE_CAPTURE").warning("binlog connection lost", extra={"owner": "acme"})
        text = os.read(master, 4096).decode()
    os.close(master)
    assert "WARNING" in text and "SOURCE_CAPTURE" in text and "binlog connection lost" in text
    assert "(owner=acme)" in text and not text.lstrip().startswith("{")


def test_log_format_can_be_forced(restore_logging, monkeypatch):
    monkeypatch.setenv("DERSON_LOG_FORMAT", "text")
    out = io.StringIO()
    logs.setup(out)
    logs.component("IO").warning("plain")
    assert "IO" in out.getvalue() and not out.getvalue().startswith("{")


@pytest.mark.parametrize(
    "message, secret",
    [
        ("connecting to mysql://repl:Sup3rS3cret@127.0.0.1:3306/shop", "Sup3rS3cret"),
        ("dsn host=db password=Sup3rS3cret user=repl", "Sup3rS3cret"),
        ('settings {"user": "repl", "password": "Sup3rS3cret"}', "Sup3rS3cret"),
        (
            "env AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
        ),
        ("creds {'SecretAccessKey': 'wJalrXUtnFEMIK7MDENG/bPxRfiCY'}", "wJalrXUtnFEMIK7MDENG/bPxRfiCY"),
        ("s3 s3://AKIAEXAMPLE:wJalrXUtnFEMIK7MDENG@bucket/prefix", "wJalrXUtnFEMIK7MDENG"),
    ],
)
def test_secrets_are_redacted(restore_logging, message, secret):
    out = io.StringIO()
    logs.setup(out)
    logs.component("COMMON").warning("%s", message)
    line = json.loads(out.getvalue())
    assert secret not in out.getvalue()
    assert "***" in line["message"]


def test_connection_params_and_exceptions_are_redacted(restore_logging):
    params = ConnectionParams(host="127.0.0.1", port=3306, user="repl", password="Sup3rS3cret")
    out = io.StringIO()
    logs.setup(out)
    logs.component("SOURCE_UNLOAD").info("connecting with %r", params)
    try:
        raise ConnectionError("cannot log in as repl with password=Sup3rS3cret")
    except ConnectionError:
        logs.component("SOURCE_UNLOAD").exception("failed")
    assert "Sup3rS3cret" not in out.getvalue()
    assert "repl" in out.getvalue()  # only the secret goes


def test_task_severities_map_to_levels(restore_logging):
    from dersonlake.mapping.task_settings import parse_task_settings  # the validated, merged document

    settings = parse_task_settings(
        {
            "Logging": {
                "EnableLogging": True,
                "LogComponents": [
                    {"Id": "SOURCE_CAPTURE", "Severity": "LOGGER_SEVERITY_DETAILED_DEBUG"},
                    {"Id": "TARGET_LOAD", "Severity": "LOGGER_SEVERITY_ERROR"},
                    {"Id": "TARGET_APPLY", "Severity": "LOGGER_SEVERITY_DEBUG"},
                    {"Id": "TASK_MANAGER", "Severity": "LOGGER_SEVERITY_WARNING"},
                    {"Id": "TRANSFORMATION", "Severity": "LOGGER_SEVERITY_DEFAULT"},
                ],
            }
        }
    )
    applied = logs.apply_task_severities(settings.to_dict())
    assert applied["SOURCE_CAPTURE"] == logs.DETAILED_DEBUG
    assert applied["TARGET_LOAD"] == logging.ERROR
    assert applied["TARGET_APPLY"] == logging.DEBUG
    assert applied["TASK_MANAGER"] == logging.WARNING
    assert applied["TRANSFORMATION"] == logging.NOTSET  # DEFAULT: the process's level (INFO)
    assert applied["COMMON"] == logging.NOTSET  # not listed: the merged defaults say DEFAULT
    out = io.StringIO()
    logs.setup(out)
    logs.component("TARGET_LOAD").warning("hidden: below ERROR")
    logs.component("SOURCE_CAPTURE").log(logs.DETAILED_DEBUG, "row event shown")
    text = out.getvalue()
    assert "hidden" not in text and "row event shown" in text and "DETAILED_DEBUG" in text


def test_a_bad_log_level_names_the_variable():
    with pytest.raises(
        BadInput, match=re.escape("DERSON_LOG_LEVEL: unknown log level (got 'LOUD'); allowed: ERROR")
    ):
        logs.parse_level("LOUD")


def test_a_real_load_logs_json_with_task_severities_and_no_password(tmp_path, sandbox):
    quiet = {"Logging": {"LogComponents": [{"Id": "TASK_MANAGER", "Severity": "LOGGER_SEVERITY_WARNING"}]}}
    write_owner(tmp_path, sandbox, name="acme")
    write_owner(tmp_path, sandbox, name="quiet", settings=quiet)
    done = derson(tmp_path, "load", "acme")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    starting = [r for r in records if r["component"] == "TASK_MANAGER" and "starting" in r["message"]]
    assert starting and starting[0]["owner"] == "acme" and starting[0]["level"] == "INFO"
    assert sandbox.password not in done.stdout + done.stderr
    done = derson(tmp_path, "load", "quiet")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert not [r for r in records if r["component"] == "TASK_MANAGER" and r["level"] == "INFO"], records
