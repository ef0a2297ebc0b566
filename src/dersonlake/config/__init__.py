"""Owner configuration: ``owners/<owner>/owner.yaml`` + ``mapping.json`` + ``task_settings.json``."""

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
