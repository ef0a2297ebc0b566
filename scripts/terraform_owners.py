#!/usr/bin/env python3
"""Write ``infra/terraform/owners/<owner>.json`` from ``owners/<owner>/`` for the Terraform root module.

Terraform cannot run our validation or DMS's deep merge, so this script does both and writes one
plain JSON file per owner that ``infra/terraform/main.tf`` reads with ``jsondecode(file(...))``:

* ``task_settings``: the owner's ``task_settings.json`` merged over DMS's defaults
  (``parse_task_settings(...).to_json()``). DMS stores and returns the whole merged document, so
  sending anything less shows as a change on every ``terraform plan`` (reference/dms.md §6).
* ``table_mappings``: ``mapping.json``, validated by the mapping layer.
* ``s3_settings``: ``target.s3_settings`` of ``owner.yaml`` normalized (API spelling) and renamed to
  the ``aws_dms_s3_endpoint`` argument names the ``dms-endpoint`` module takes.
* ``engine``, ``databases``, ``migration_type`` and, for an ``s3://`` target, ``bucket_folder``.
* ``schedule``: ``schedule:`` of ``owner.yaml`` (null when absent) for the ``schedule`` module, with
  ``period_seconds``, the longest gap between due times, for the stale-lake alarm.
* ``iceberg``: with ``target.tables: iceberg``, the catalog and the Iceberg namespaces (the target
  schemas) for the Glue databases and the DMS-iceberg Lambda (null otherwise).

Usage::

    python scripts/terraform_owners.py            # write every owner in ./owners
    python scripts/terraform_owners.py --check    # exit 1 when a written file is stale or missing

The files are committed, so ``terraform plan`` needs no Python; the test-suite fails when one is
stale (run ``make tf-owners``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from dersonlake.config.owner import list_owners, load_owner  # noqa: E402
from dersonlake.errors import BadInput  # noqa: E402
from dersonlake.mapping import parse_mapping  # noqa: E402
from dersonlake.mapping.task_settings import parse_task_settings  # noqa: E402

DEFAULT_OUT = ROOT / "infra" / "terraform" / "owners"

# API names whose provider argument is not the plain snake_case form.
_SPECIAL = {"Rfc4180": "rfc_4180"}
# Settings that Terraform sets itself (the role) or that the owner cannot set.
_NOT_OWNER_SETTINGS = {"ServiceAccessRoleArn", "BucketName", "BucketFolder"}


def provider_name(api_name: str) -> str:
    """``CdcMaxBatchInterval`` -> ``cdc_max_batch_interval`` (the aws_dms_s3_endpoint argument)."""
    if api_name in _SPECIAL:
        return _SPECIAL[api_name]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", api_name).lower()


def owner_document(name: str, owners_dir: Path) -> dict[str, Any]:
    """The Terraform view of one owner (raises BadInput naming the file and key when invalid)."""
    owner = load_owner(name, owners_dir)
    mapping = parse_mapping(owner.mapping, file=owner.mapping_file)
    settings = parse_task_settings(owner.task_settings, file=owner.settings_file)
    s3 = {}
    for key, value in sorted(owner.target.s3.api.items()):
        if key in _NOT_OWNER_SETTINGS:
            continue
        s3[provider_name(key)] = value
    return {
        "_generated_by": "scripts/terraform_owners.py from owners/" + name + "/; do not edit",
        "owner": name,
        "engine": owner.source.engine,
        "databases": list(owner.source.databases),
        "migration_type": owner.migration_type,
        "bucket_folder": owner.target.folder if owner.target.is_s3 else None,
        "table_mappings": owner.mapping,
        "task_settings": json.loads(settings.to_json()),
        "s3_settings": s3,
        "schedule": schedule_document(owner.schedule),
        "iceberg": iceberg_document(owner, mapping),
    }


def iceberg_document(owner: Any, mapping: Any) -> dict[str, Any] | None:
    """An owner's Iceberg tables as Terraform needs them (null: ``target.tables`` is not iceberg):
    the catalog (on AWS ``glue`` unless owner.yaml names another) and the namespaces, i.e. the
    target schemas of its source databases after the mapping's schema rename rules (one Glue
    database each; the DMS-iceberg Lambda creates the tables in them)."""
    if owner.target.tables != "iceberg":
        return None
    from dersonlake.mapping.transformations import schema_output

    namespaces = sorted({schema_output(mapping.transformations, db)[0] for db in owner.source.databases})
    return {"catalog": owner.target.catalog or "glue", "namespaces": namespaces}


# A fixed instant, so the longest gap of a cron() (and this file) does not change with the day it is written.
_PERIOD_FROM = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def schedule_document(schedule: Any) -> dict[str, Any] | None:
    """The owner's schedule as the ``schedule`` and ``alarms`` Terraform modules take it."""
    if schedule is None:
        return None
    from dersonlake.cron import nominal_period

    period = nominal_period(schedule.parsed, _PERIOD_FROM, schedule.zone, _PERIOD_FROM)
    return {
        "expression": schedule.expression,
        "timezone": schedule.timezone,
        "flexible_window_minutes": schedule.flexible_window_minutes,
        "enabled": schedule.enabled,
        "stale_after_periods": schedule.stale_after_periods,
        "period_seconds": int(period) if period is not None else None,
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--owners-dir", type=Path, default=ROOT / "owners")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 when a file is stale or missing")
    args = ap.parse_args(argv)
    stale = []
    try:
        names = list_owners(args.owners_dir)
        for name in names:
            text = render(owner_document(name, args.owners_dir))
            path = args.out / f"{name}.json"
            if args.check:
                if not path.is_file() or path.read_text(encoding="utf-8") != text:
                    stale.append(str(path))
                continue
            args.out.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if stale:
        print("stale (run `make tf-owners`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
