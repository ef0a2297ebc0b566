"""Structured logs: one logger per component, named as DMS names its ``LogComponents``.

``component("TARGET_LOAD")`` is the logger ``dersonlake.TARGET_LOAD``. The DMS components
(dms.md §2, ``Logging.LogComponents[].Id``) name the replication engine's parts; the parts DMS
does not have get names in the same style (``STATES``, ``INTAKE``, ``NOTIFY``). A task's
``Logging.LogComponents[].Severity`` sets its components' levels when the task starts
(``apply_task_severities``), so a user turns on ``LOGGER_SEVERITY_DEBUG`` for ``SOURCE_CAPTURE``
exactly as on DMS.

``setup`` writes JSON lines when stderr is not a terminal (one object per line, for log shippers)
and a readable line when it is. Every record passes ``RedactFilter`` first: passwords in
connection parameters, ``password=`` pairs, ``user:pass@`` in URLs and AWS secret keys never
reach a log (DESIGN.md: secrets never printed).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

from dersonlake.errors import BadInput
from dersonlake.mapping.task_settings import LOG_COMPONENTS

# dms.md §2 (the order of the default task settings), then ours.
DMS_COMPONENTS = LOG_COMPONENTS
OWN_COMPONENTS = ("STATES", "INTAKE", "NOTIFY", "SCHEDULER")
COMPONENTS = DMS_COMPONENTS + OWN_COMPONENTS
ROOT = "dersonlake"

DETAILED_DEBUG = 5  # below DEBUG (10): DMS's LOGGER_SEVERITY_DETAILED_DEBUG
logging.addLevelName(DETAILED_DEBUG, "DETAILED_DEBUG")

# Logging.LogComponents[].Severity -> Python level. DEFAULT is the process's level (``setup``:
# INFO, DMS's default, unless DERSON_LOG_LEVEL says otherwise), so a task with default settings
# does not undo a quieter DERSON_LOG_LEVEL.
SEVERITIES = {
    "LOGGER_SEVERITY_ERROR": logging.ERROR,
    "LOGGER_SEVERITY_WARNING": logging.WARNING,
    "LOGGER_SEVERITY_INFO": logging.INFO,
    "LOGGER_SEVERITY_DEFAULT": logging.NOTSET,
    "LOGGER_SEVERITY_DEBUG": logging.DEBUG,
    "LOGGER_SEVERITY_DETAILED_DEBUG": DETAILED_DEBUG,
}
LEVELS = {"ERROR": logging.ERROR, "WARNING": logging.WARNING, "INFO": logging.INFO, "DEBUG": logging.DEBUG}
LEVELS["DETAILED_DEBUG"] = DETAILED_DEBUG


def level_name(record: logging.LogRecord) -> str:
    """The record's level name; level 5 is always ``DETAILED_DEBUG`` (uvicorn renames it ``TRACE``
    in the global registry when a server starts in the same process)."""
    return "DETAILED_DEBUG" if record.levelno == DETAILED_DEBUG else record.levelname


# Record attributes passed with ``extra=`` that belong in the JSON object.
CONTEXT_FIELDS = ("owner", "task", "table", "execution", "state", "alert")


def component(name: str) -> logging.Logger:
    """The logger of component ``name`` (one of ``COMPONENTS``)."""
    if name not in COMPONENTS:
        raise ValueError(f"unknown log component {name!r}; known: {', '.join(COMPONENTS)}")
    return logging.getLogger(f"{ROOT}.{name}")


# -- redaction ----------------------------------------------------------------------------------

_MASK = "***"
_SECRET_KEYS = r"password|passwd|pwd|secret|secret[_-]?access[_-]?key|aws_secret_access_key|token|api[_-]?key"
_QUOTED = r"(?P<pre>[\"'](?:" + _SECRET_KEYS + r")[\"']\s*:\s*[\"'])(?P<secret>[^\"']*)(?P<post>[\"'])"
_PATTERNS = [
    # scheme://user:password@host
    re.compile(r"(?P<pre>[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)(?P<secret>[^\s@/]+)(?P<post>@)"),
    # "password": "x" / 'password': 'x' (JSON, Python reprs)
    re.compile(_QUOTED, re.I),
    # password='x' (dataclass reprs), password=x (URLs' query strings, DSNs, env dumps)
    re.compile(r"(?P<pre>\b(?:" + _SECRET_KEYS + r")=')(?P<secret>[^']*)(?P<post>')", re.I),
    re.compile(r"(?P<pre>\b(?:" + _SECRET_KEYS + r")=)(?P<secret>[^\s&;,'\")]+)(?P<post>)", re.I),
    # an AWS secret access key next to its name in any other form (SecretAccessKey: x, --secret-key x)
    re.compile(
        r"(?P<pre>(?:secret[_-]?access[_-]?key|secret[_-]?key)[\"']?\s*[:= ]\s*[\"']?)"
        r"(?P<secret>[A-Za-z0-9/+=]{16,})(?P<post>)",
        re.I,
    ),
]


def redact(text: str) -> str:
    """``text`` with every secret it recognises replaced by ``***``."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group("pre") + _MASK + m.group("post"), text)
    return text


class RedactFilter(logging.Filter):
    """Renders the message with its arguments, then redacts it (and any exception text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.exc_text = redact(f"{type(exc).__name__}: {exc}")
            record.stack = [redact(line) for line in traceback.format_tb(exc.__traceback__)]
            record.exc_info = None
        return True


# -- formats ------------------------------------------------------------------------------------


def component_of(record: logging.LogRecord) -> str:
    name = record.name
    return name[len(ROOT) + 1 :] if name.startswith(ROOT + ".") else name


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ISO 8601), level, component, message, context, error."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": level_name(record),
            "component": component_of(record),
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                doc[key] = value
        if record.exc_text:
            doc["error"] = record.exc_text
            doc["stack"] = getattr(record, "stack", [])
        return json.dumps(doc, ensure_ascii=False, default=str)


class ReadableFormatter(logging.Formatter):
    """``22:41:03 WARNING  SOURCE_CAPTURE  message  (owner=acme task=...)`` for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        context = " ".join(
            f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if getattr(record, k, None) is not None
        )
        line = f"{ts} {level_name(record):<8} {component_of(record):<15} {record.getMessage()}"
        if context:
            line += f"  ({context})"
        if record.exc_text:
            line += f"\n    {record.exc_text}"
        return line


class _Handler(logging.StreamHandler):
    """Our handler (so ``setup`` can replace it when called again)."""


def setup(
    stream: TextIO | None = None, *, level: str | int | None = None, json_lines: bool | None = None
) -> logging.Handler:
    """Send Derson Lake's logs (and other libraries' warnings) to ``stream`` (stderr).

    ``json_lines`` defaults to "stream is not a terminal", overridden by ``DERSON_LOG_FORMAT``
    (``json`` or ``text``); ``level`` defaults to ``DERSON_LOG_LEVEL`` or INFO (DMS's default).
    """
    stream = stream or sys.stderr
    if json_lines is None:
        fmt = os.environ.get("DERSON_LOG_FORMAT", "").lower()
        json_lines = fmt == "json" if fmt in ("json", "text") else not _isatty(stream)
    resolved = parse_level(level if level is not None else os.environ.get("DERSON_LOG_LEVEL") or "INFO")
    handler = _Handler(stream)
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter() if json_lines else ReadableFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)  # other libraries: warnings and errors only
    logging.getLogger(ROOT).setLevel(resolved)
    return handler


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def parse_level(value: str | int) -> int:
    if isinstance(value, int):
        return value
    key = value.strip().upper().removeprefix("LOGGER_SEVERITY_")
    if key == "DEFAULT":
        key = "INFO"
    if key not in LEVELS:
        raise BadInput(
            "unknown log level",
            path="DERSON_LOG_LEVEL",
            value=value,
            allowed=list(LEVELS),
        )
    return LEVELS[key]


def apply_task_severities(settings: dict[str, Any] | str | None) -> dict[str, int]:
    """Set each component's level from ``Logging.LogComponents`` of the task settings; returns
    what was set. Unknown or missing entries leave the component as it is (the settings were
    validated when the task was created; mapping.task_settings names the file and path)."""
    if isinstance(settings, str):
        settings = json.loads(settings or "{}")
    entries = ((settings or {}).get("Logging") or {}).get("LogComponents") or []
    applied: dict[str, int] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        name, severity = entry.get("Id"), entry.get("Severity")
        if name in COMPONENTS and severity in SEVERITIES:
            component(name).setLevel(SEVERITIES[severity])
            applied[name] = SEVERITIES[severity]
    return applied
