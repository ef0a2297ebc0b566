"""notify: alerts (log, webhook, e-mail, SNS), the notifier behind ``sns:publish``, and the
watcher that turns failures in the stores into alerts. Configured by ``notify.yaml``
(docs/monitoring.md)."""

from __future__ import annotations

from dersonlake.notify.alert import KINDS, Alert
from dersonlake.notify.config import NotifyConfig, load_config
from dersonlake.notify.notifier import Notifier
from dersonlake.notify.watch import AlertWatcher

__all__ = ["KINDS", "Alert", "AlertWatcher", "Notifier", "NotifyConfig", "load_config"]
