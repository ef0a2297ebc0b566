"""The notifier: sends each alert once to the channels that want it.

It is what ``sns:publish`` calls in the state engine (``sns_publish``), and what the alert
watcher calls for failures it finds in the stores. A channel that fails is logged (component
NOTIFY) and does not stop the others, nor the execution that published.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from dersonlake import logs
from dersonlake.errors import DersonError
from dersonlake.notify.alert import SNS_PUBLISH, Alert
from dersonlake.notify.channels import Channel, make_channel
from dersonlake.notify.config import ChannelConfig, NotifyConfig, load_config
from dersonlake.notify.history import AlertLog
from dersonlake.states import SnsMessage

log = logs.component("NOTIFY")


class Notifier:
    def __init__(self, config: NotifyConfig, alert_log: AlertLog | None = None) -> None:
        self.config = config
        self.alert_log = alert_log
        self.channels: list[tuple[Channel, ChannelConfig]] = [(make_channel(c), c) for c in config.channels]

    @classmethod
    def from_files(cls, home: Path, config_file: str | Path | None = None) -> Notifier:
        """The notifier of ``notify.yaml`` (``config.config_path()``), recording in ``home``."""
        return cls(load_config(config_file), AlertLog(home / "alerts.sqlite"))

    def close(self) -> None:
        if self.alert_log is not None:
            self.alert_log.close()

    def send(self, alert: Alert) -> dict[str, str]:
        """Deliver ``alert`` unless it was sent before; returns {channel: "sent" | error}."""
        if self.alert_log is not None and not self.alert_log.claim(alert):
            return {}
        result: dict[str, str] = {}
        for channel, config in self.channels:
            if not config.wants(alert.kind, alert.owner):
                continue
            try:
                channel.deliver(alert)
                result[channel.name] = "sent"
            except DersonError as exc:
                result[channel.name] = str(exc)
                log.error("alert %s not delivered: %s", alert.key, exc, extra={"alert": alert.kind})
            except Exception as exc:  # a channel's bug must not fail the caller (an execution)
                result[channel.name] = repr(exc)
                log.exception("alert %s: %s failed", alert.key, channel.name)
        if self.alert_log is not None:
            self.alert_log.record_result(alert.key, result)
        return result

    def sns_publish(self, msg: SnsMessage) -> None:
        """The state engine's notifier: an ``sns:publish`` Task becomes an alert."""
        self.send(sns_alert(msg))


def sns_alert(msg: SnsMessage) -> Alert:
    owner = ""
    try:
        body = json.loads(msg.message)
        if isinstance(body, dict) and isinstance(body.get("owner"), str):
            owner = body["owner"]
    except ValueError:
        pass
    subject = msg.subject or f"sns:publish to {msg.target}"
    return Alert(
        kind=SNS_PUBLISH,
        owner=owner,
        subject=f"{owner}: {subject}" if owner else subject,
        what=f"a state machine published to {msg.target}",
        cause=msg.message[:4000],
        where={
            "execution": msg.execution_arn,
            "command": f"derson-lake executions describe {msg.execution_arn}",
        },
        key=f"sns:{msg.key}",
        time=time.time(),
        details={"topic": msg.target, "attributes": msg.attributes},
    )
