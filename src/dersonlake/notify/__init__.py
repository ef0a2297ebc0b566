"""notify: alerts (log, webhook, e-mail, SNS), the notifier behind ``sns:publish``, and the
watcher that turns failures in the stores into alerts. Configured by ``notify.yaml``
(docs/monitoring.md).

What other layers use (tests may reach inside; other layers may not):

* ``Alert`` / ``KINDS`` and the kinds ``TASK_FAILED`` / ``RUN_FAILED`` / ``LAKE_STALE`` /
  ``ALARM_RESOLVED``: an alert, as the scheduler's alarms raise them.
* ``NotifyConfig`` / ``load_config``: ``notify.yaml``.
* ``Notifier``: sends alerts (and ``sns:publish``); ``AlertWatcher``: turns store failures into alerts.
* ``recent_alerts``: the alerts sent, for ``status``.
"""

from __future__ import annotations

from dersonlake.notify.alert import ALARM_RESOLVED, KINDS, LAKE_STALE, RUN_FAILED, TASK_FAILED, Alert
from dersonlake.notify.config import NotifyConfig, load_config
from dersonlake.notify.history import recent_alerts
from dersonlake.notify.notifier import Notifier
from dersonlake.notify.watch import AlertWatcher

__all__ = [
    "ALARM_RESOLVED",
    "KINDS",
    "LAKE_STALE",
    "RUN_FAILED",
    "TASK_FAILED",
    "Alert",
    "AlertWatcher",
    "Notifier",
    "NotifyConfig",
    "load_config",
    "recent_alerts",
]
