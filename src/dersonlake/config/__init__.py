"""Owner configuration: ``owners/<owner>/owner.yaml`` + ``mapping.json`` + ``task_settings.json``.

What other layers use (tests may reach inside; other layers may not):

* ``load_owner`` / ``list_owners`` / ``owners_dir``: find and read an owner's files.
* ``Owner`` / ``SourceConfig`` / ``TargetConfig``: an owner as read (where from, where to).
* ``S3Settings`` / ``normalize_s3_settings``: the DMS S3 endpoint settings that shape the lake's files.
* ``ScheduleConfig`` / ``parse_schedule``: an owner's ``schedule:``, for the scheduler.
"""

from dersonlake.config.owner import Owner, SourceConfig, TargetConfig, list_owners, load_owner, owners_dir
from dersonlake.config.s3_settings import S3Settings, normalize_s3_settings
from dersonlake.config.schedule import ScheduleConfig, parse_schedule

__all__ = [
    "Owner",
    "S3Settings",
    "ScheduleConfig",
    "SourceConfig",
    "TargetConfig",
    "list_owners",
    "load_owner",
    "normalize_s3_settings",
    "owners_dir",
    "parse_schedule",
]
