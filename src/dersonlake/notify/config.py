"""``notify.yaml``: where alerts go and when CDC lag is an alert.

The file is found at ``$DERSON_NOTIFY_CONFIG``, else ``notify.yaml`` in the owners folder (next
to the owner folders: one file for the platform). No file means the default: alerts go to the
log. Every mistake is a ``BadInput`` naming the file and the key (``channels[1].url``).
Secrets (the SMTP password, webhook header values) are given by the name of an environment
variable or a file, never in the file itself, as for the owners' database passwords.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dersonlake.config import owners_dir
from dersonlake.errors import BadInput
from dersonlake.notify.alert import KINDS

FILE_NAME = "notify.yaml"
CHANNEL_TYPES = ("log", "webhook", "email", "sns")
TOP_KEYS = ("channels", "cdc_latency_seconds", "check_interval_seconds")
CHANNEL_KEYS: dict[str, tuple[str, ...]] = {
    "log": (),
    "webhook": ("url", "headers", "headers_env", "retries", "backoff_seconds", "timeout_seconds"),
    "email": (
        "host",
        "port",
        "starttls",
        "ssl",
        "user",
        "password_env",
        "password_file",
        "from",
        "to",
        "timeout_seconds",
    ),
    "sns": ("topic_arn", "region", "endpoint_url"),
}
COMMON_KEYS = ("type", "kinds", "owners")


@dataclass(frozen=True)
class ChannelConfig:
    type: str
    options: dict[str, Any]
    kinds: tuple[str, ...] = KINDS
    owners: tuple[str, ...] | None = None  # None: every owner

    def wants(self, kind: str, owner: str) -> bool:
        return kind in self.kinds and (self.owners is None or owner in self.owners)


@dataclass(frozen=True)
class NotifyConfig:
    channels: list[ChannelConfig] = field(default_factory=lambda: [ChannelConfig("log", {})])
    cdc_latency_seconds: float | None = None  # None: no latency alerts
    check_interval_seconds: float = 10.0
    file: str | None = None


def config_path(base: str | Path | None = None) -> Path:
    configured = os.environ.get("DERSON_NOTIFY_CONFIG")
    return Path(configured).expanduser() if configured else owners_dir(base) / FILE_NAME


def load_config(path: str | Path | None = None) -> NotifyConfig:
    """The configuration at ``path`` (default: ``config_path()``); the default when absent."""
    explicit = path is not None or bool(os.environ.get("DERSON_NOTIFY_CONFIG"))
    file = Path(path) if path is not None else config_path()
    if not file.is_file():
        if explicit:
            raise BadInput(
                "notification config file not found",
                file=str(file),
                hint="Create it (docs/monitoring.md) or unset DERSON_NOTIFY_CONFIG",
            )
        return NotifyConfig()
    try:
        doc = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise BadInput(f"not valid YAML: {exc}", file=str(file)) from None
    return parse_config(doc, str(file))


def parse_config(doc: Any, file: str) -> NotifyConfig:
    if not isinstance(doc, dict):
        raise BadInput("must be a mapping with a 'channels' list", file=file, value=type(doc).__name__)
    _known(doc, TOP_KEYS, file, "")
    raw_channels = doc.get("channels", [{"type": "log"}])
    if not isinstance(raw_channels, list) or not raw_channels:
        raise BadInput("must be a non-empty list of channels", file=file, path="channels")
    channels = [_channel(c, file, f"channels[{i}]") for i, c in enumerate(raw_channels)]
    latency = doc.get("cdc_latency_seconds")
    if latency is not None:
        latency = _number(latency, file, "cdc_latency_seconds")
    interval = _number(doc.get("check_interval_seconds", 10), file, "check_interval_seconds")
    return NotifyConfig(channels, latency, interval, file)


def _channel(raw: Any, file: str, path: str) -> ChannelConfig:
    if not isinstance(raw, dict):
        raise BadInput("a channel must be a mapping with a 'type'", file=file, path=path)
    kind = raw.get("type")
    if kind not in CHANNEL_TYPES:
        raise BadInput(
            "unknown channel type", file=file, path=f"{path}.type", value=kind, allowed=CHANNEL_TYPES
        )
    _known(raw, COMMON_KEYS + CHANNEL_KEYS[kind], file, path)
    options = {k: v for k, v in raw.items() if k not in COMMON_KEYS}
    kinds = tuple(_strings(raw.get("kinds", list(KINDS)), file, f"{path}.kinds"))
    for i, k in enumerate(kinds):
        if k not in KINDS:
            raise BadInput("unknown alert kind", file=file, path=f"{path}.kinds[{i}]", value=k, allowed=KINDS)
    owners = raw.get("owners")
    owner_list = tuple(_strings(owners, file, f"{path}.owners")) if owners is not None else None
    if kind == "webhook":
        _require(options, ("url",), file, path)
        if not str(options["url"]).startswith(("http://", "https://")):
            raise BadInput(
                "must be an http:// or https:// URL", file=file, path=f"{path}.url", value=options["url"]
            )
        for name in ("retries", "backoff_seconds", "timeout_seconds"):
            if name in options:
                options[name] = _number(options[name], file, f"{path}.{name}")
    elif kind == "email":
        _require(options, ("host", "from", "to"), file, path)
        options["to"] = _strings(options["to"], file, f"{path}.to")
        if "password_env" in options and options["password_env"] not in os.environ:
            raise BadInput(
                "the environment variable holding the SMTP password is not set",
                file=file,
                path=f"{path}.password_env",
                value=options["password_env"],
            )
    elif kind == "sns":
        _require(options, ("topic_arn",), file, path)
        if not str(options["topic_arn"]).startswith("arn:"):
            raise BadInput(
                "must be an SNS topic ARN", file=file, path=f"{path}.topic_arn", value=options["topic_arn"]
            )
    return ChannelConfig(kind, options, kinds, owner_list)


def _known(doc: dict[str, Any], allowed: tuple[str, ...], file: str, path: str) -> None:
    for key in doc:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise BadInput("unknown key", file=file, path=where, value=key, allowed=allowed)


def _require(options: dict[str, Any], names: tuple[str, ...], file: str, path: str) -> None:
    for name in names:
        if options.get(name) in (None, "", []):
            raise BadInput("is required", file=file, path=f"{path}.{name}")


def _number(value: Any, file: str, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BadInput("must be a number >= 0", file=file, path=path, value=value)
    return float(value)


def _strings(value: Any, file: str, path: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput("must be a string or a list of strings", file=file, path=path, value=value)
    return value
