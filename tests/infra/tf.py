"""Shared helpers of the infra tests: paths, HCL parsing, placeholder rendering, the terraform CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2

REPO = Path(__file__).resolve().parents[2]
TF_ROOT = REPO / "infra" / "terraform"
MODULES = TF_ROOT / "modules"
PIPELINES = TF_ROOT / "pipelines"
MODULE_NAMES = (
    "alarms",
    "dms-endpoint",
    "dms-instance",
    "dms-task",
    "iam-role",
    "iceberg-catalog",
    "lake-bucket",
    "lambda",
    "schedule",
    "step-function",
)
PIPELINE_NAMES = ("derson-Main", "DMS-Handler", "DMS-ErrorHandling")

# The placeholders a states.json may use; Terraform's templatefile and render_states fill them.
PLACEHOLDERS = (
    "region",
    "account_id",
    "state_machine_prefix",
    "intake_function_arn",
    "iceberg_function_arn",
    "error_topic_arn",
)
SAMPLE_VALUES = {
    "region": "sa-east-1",
    "account_id": "123456789012",
    "state_machine_prefix": "",
    "intake_function_arn": "arn:aws:lambda:sa-east-1:123456789012:function:DMS-intake",
    "iceberg_function_arn": "arn:aws:lambda:sa-east-1:123456789012:function:DMS-iceberg",
    "error_topic_arn": "arn:aws:sns:sa-east-1:123456789012:derson-lake-errors",
}
_PLACEHOLDER = re.compile(r"(?<!\$)\$\{([^}]*)\}")

# Where the hashicorp/aws provider mirror is taken from, and where it is looked for otherwise.
MIRROR_ENV = "DERSON_TF_PLUGIN_MIRROR"
MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path("/usr/share/terraform/plugins"),
    Path("/usr/local/share/terraform/plugins"),
)
MIRROR_LAYOUT = "<mirror>/registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/terraform-provider-aws_*"


def tf_files() -> list[Path]:
    return sorted(p for p in TF_ROOT.rglob("*.tf") if ".terraform" not in p.parts)


def load_hcl(path: Path) -> dict[str, Any]:
    """Plain dicts from python-hcl2 v8 (no quotes kept in strings, no __is_block__ keys)."""
    with path.open(encoding="utf-8") as f:
        return hcl2.load(
            f,
            serialization_options=hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False),
        )


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def render_states(text: str, values: dict[str, str] | None = None) -> str:
    """Fill a states.json the way Terraform's templatefile does (``$${`` is a literal ``${``)."""
    values = SAMPLE_VALUES if values is None else values

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise KeyError(f"unknown placeholder ${{{name}}} (known: {', '.join(sorted(values))})")
        return values[name]

    return _PLACEHOLDER.sub(sub, text).replace("$${", "${")


def terraform_bin() -> str | None:
    return shutil.which("terraform")


def find_mirror() -> tuple[Path | None, str]:
    """The provider mirror folder and how it was found; (None, why) when there is none."""
    given = os.environ.get(MIRROR_ENV)
    if given:
        path = Path(given).expanduser()
        if _has_aws_provider(path):
            return path, f"${MIRROR_ENV}={given}"
        return None, (
            f"${MIRROR_ENV}={given} holds no hashicorp/aws provider; it must have the layout {MIRROR_LAYOUT}"
        )
    for path in MIRROR_CANDIDATES:
        if _has_aws_provider(path):
            return path, f"found at {path} (set ${MIRROR_ENV} to choose another)"
    return None, (
        f"no local terraform provider mirror: set {MIRROR_ENV} to a folder with the layout {MIRROR_LAYOUT} "
        f"(looked in {', '.join(str(p) for p in MIRROR_CANDIDATES)}). Find one with: "
        "find / -path '*hashicorp/aws/*' -name 'terraform-provider-aws*' 2>/dev/null"
    )


def _has_aws_provider(path: Path) -> bool:
    aws = path / "registry.terraform.io" / "hashicorp" / "aws"
    return aws.is_dir() and any(aws.glob("*/*/terraform-provider-aws*"))


def run_tf(
    args: list[str], cwd: Path, *, timeout: float = 120, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        # No user CLI config (it could point at a network mirror); no real credentials.
        "TF_CLI_CONFIG_FILE": str(cwd / ".no-cli-config"),
        "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE",
        "AWS_SECRET_ACCESS_KEY": "fake",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "TF_DATA_DIR", "TF_PLUGIN_CACHE_DIR"):
        env.pop(key, None)
    proc = subprocess.run(
        [terraform_bin() or "terraform", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"terraform {' '.join(args)} failed (rc {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc
