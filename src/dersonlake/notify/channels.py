"""The places an alert can go: the log, a webhook, e-mail (SMTP), an SNS topic.

Each channel has one method, ``deliver(alert)``, that returns when the alert is delivered and
raises ``DeliveryFailed`` (with a reason a user can act on) when it cannot be. The webhook retries
connection errors, timeouts and 5xx/429 answers with exponential backoff; a 4xx other than 429
is a configuration mistake and is not retried.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from dersonlake import logs
from dersonlake.errors import OperationFailed
from dersonlake.notify.alert import Alert
from dersonlake.notify.config import ChannelConfig

log = logs.component("NOTIFY")


class DeliveryFailed(OperationFailed):
    """An alert could not be delivered through one channel."""


class Channel(Protocol):
    name: str

    def deliver(self, alert: Alert) -> None: ...


class LogChannel:
    """The default: one WARNING record of component NOTIFY per alert."""

    name = "log"

    def deliver(self, alert: Alert) -> None:
        extra = {"owner": alert.owner or None, "alert": alert.kind}
        where = " ".join(f"{k}={v}" for k, v in alert.where.items())
        log.warning("%s: %s; cause: %s; %s", alert.subject, alert.what, alert.cause, where, extra=extra)


class WebhookChannel:
    """``POST`` the alert as JSON (``Alert.to_json``)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.url = str(options["url"])
        self.name = f"webhook {self.url}"
        self.retries = int(options.get("retries", 3))
        self.backoff = float(options.get("backoff_seconds", 1.0))
        self.timeout = float(options.get("timeout_seconds", 5.0))
        self.headers = {"Content-Type": "application/json", "User-Agent": "derson-lake"}
        self.headers.update({str(k): str(v) for k, v in (options.get("headers") or {}).items()})
        for header, env in (options.get("headers_env") or {}).items():
            self.headers[str(header)] = os.environ.get(str(env), "")

    def deliver(self, alert: Alert) -> None:
        body = json.dumps(alert.to_json()).encode()
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, body, self.headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
                return
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code} {exc.reason}"
                if exc.code < 500 and exc.code != 429:
                    raise DeliveryFailed(f"{self.url} refused the alert: {last}; check the URL") from None
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                last = str(getattr(exc, "reason", exc))
            log.warning("webhook %s: attempt %d failed: %s", self.url, attempt + 1, last)
        raise DeliveryFailed(f"{self.url}: {last} after {self.retries + 1} attempt(s)")


class EmailChannel:
    """One plain-text e-mail per alert through an SMTP server (smtplib)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.host = str(options["host"])
        self.port = int(options.get("port", 465 if options.get("ssl") else 25))
        self.starttls = bool(options.get("starttls", False))
        self.ssl = bool(options.get("ssl", False))
        self.user = options.get("user")
        self.password_env = options.get("password_env")
        self.password_file = options.get("password_file")
        self.sender = str(options["from"])
        self.to = list(options["to"])
        self.timeout = float(options.get("timeout_seconds", 10.0))
        self.name = f"email {self.host}:{self.port}"

    def _password(self) -> str | None:
        if self.password_env:
            return os.environ.get(self.password_env)
        if self.password_file:
            return Path(self.password_file).expanduser().read_text().strip()
        return None

    def deliver(self, alert: Alert) -> None:
        message = EmailMessage()
        message["Subject"] = f"[derson-lake] {alert.subject}"
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        message.set_content(alert.text())
        try:
            if self.ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(str(self.user), self._password() or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{self.name}: {exc}") from None


class SnsChannel:
    """Publish the alert's JSON to a real SNS topic with boto3 (AWS credentials as usual)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.topic = str(options["topic_arn"])
        self.region = options.get("region") or self.topic.split(":")[3] or None
        self.endpoint_url = options.get("endpoint_url")
        self.name = f"sns {self.topic}"

    def deliver(self, alert: Alert) -> None:
        import boto3
        import botocore.exceptions

        client = boto3.client("sns", region_name=self.region, endpoint_url=self.endpoint_url)
        try:
            client.publish(
                TopicArn=self.topic, Subject=alert.subject[:100], Message=json.dumps(alert.to_json())
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise DeliveryFailed(f"{self.name}: {exc}") from None


def make_channel(config: ChannelConfig) -> Channel:
    if config.type == "webhook":
        return WebhookChannel(config.options)
    if config.type == "email":
        return EmailChannel(config.options)
    if config.type == "sns":
        return SnsChannel(config.options)
    return LogChannel()
