#!/usr/bin/env python3
"""``terraform plan`` of infra/terraform with no AWS account and no network: ``make plan-offline``.

A real plan asks AWS for the account id (STS), validates the credentials and, with provider 5.x,
validates each state machine definition through the Step Functions API. This script plans a *copy*
of the root module (``build/tf-offline/terraform``; the real folder and its state are untouched)
with three override files, the only differences from a real plan:

* the AWS provider gets fake credentials and its ``skip_*`` flags (no STS, no metadata service);
* ``account_id`` is given (``--account-id``, default 123456789012) so no STS lookup is needed;
* the step-function module's definition is made unknown until apply, so the provider does not call
  ValidateStateMachineDefinition (the definitions are checked by our ASL engine and rendered by
  Terraform's own templatefile in tests/infra instead).

Providers come from a local mirror (``--plugin-dir``, default ``$DERSON_TF_PLUGIN_MIRROR``) laid
out as ``<mirror>/registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/``; without one,
``terraform init`` downloads from the registry (network). The variables come from
``--var-file`` (default ``infra/terraform/terraform.tfvars``, else ``terraform.tfvars.example``).
When ``build/dms-intake.zip`` does not exist a placeholder zip is planned instead (a plan only
hashes it; ``make lambda-zip`` builds the real one). tests/infra/test_terraform.py plans through
the same functions.

Usage::

    python scripts/terraform_offline_plan.py [--var-file F] [--plugin-dir D] [--out build/tf-offline]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TF_ROOT = REPO / "infra" / "terraform"
MIRROR_ENV = "DERSON_TF_PLUGIN_MIRROR"
PLACEHOLDER_ACCOUNT = "123456789012"

OFFLINE_PROVIDER = """
provider "aws" {
  access_key                  = "AKIAFAKEFAKEFAKEFAKE"
  secret_key                  = "not-a-real-key"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
"""
OFFLINE_SFN_UNKNOWN = """
resource "terraform_data" "offline_unknown" {
  input = ""
}
"""
OFFLINE_SFN_OVERRIDE = """
resource "aws_sfn_state_machine" "this" {
  definition = "${jsonencode(jsondecode(local.definition))}${terraform_data.offline_unknown.output}"
}
"""


def offline_copy(dest: Path) -> Path:
    """A copy of infra/terraform at ``dest`` with the offline overrides; returns ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(
        TF_ROOT,
        dest,
        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.tfplan", "terraform.tfvars"),
    )
    (dest / "zz_offline_override.tf").write_text(OFFLINE_PROVIDER)
    (dest / "modules" / "step-function" / "zz_offline_unknown.tf").write_text(OFFLINE_SFN_UNKNOWN)
    (dest / "modules" / "step-function" / "zz_offline_override.tf").write_text(OFFLINE_SFN_OVERRIDE)
    return dest


def placeholder_zip(path: Path) -> Path:
    """A stand-in Lambda package: a plan only hashes the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "dersonlake/intake/lambda_function.py", "def lambda_handler(event, context):\n    return {}\n"
        )
    return path


def terraform(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run terraform in ``cwd`` with no prompts, no update check and no ambient AWS profile."""
    full = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1", **(env or {})}
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "TF_DATA_DIR"):
        full.pop(key, None)
    return subprocess.run(["terraform", *args], cwd=cwd, env=full, capture_output=True, text=True)


def init(
    root: Path, plugin_dir: Path | None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    args = ["init", "-backend=false", "-input=false", "-no-color"]
    if plugin_dir is not None:
        args.append(f"-plugin-dir={plugin_dir}")
    return terraform(args, root, env)


def plan(root: Path, extra: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    args = ["plan", "-input=false", "-refresh=false", "-lock=false", "-no-color", "-out=offline.tfplan"]
    return terraform([*args, *extra], root, env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_vars = TF_ROOT / "terraform.tfvars"
    if not default_vars.exists():
        default_vars = TF_ROOT / "terraform.tfvars.example"
    parser.add_argument("--var-file", type=Path, default=default_vars)
    parser.add_argument("--plugin-dir", default=os.environ.get(MIRROR_ENV) or None)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "tf-offline")
    parser.add_argument("--account-id", default=PLACEHOLDER_ACCOUNT)
    args = parser.parse_args(argv)

    if shutil.which("terraform") is None:
        print("terraform not found on PATH: install Terraform >= 1.5", file=sys.stderr)
        return 2
    var_file = args.var_file.resolve()
    if not var_file.is_file():
        print(f"{var_file}: no such variables file (copy terraform.tfvars.example)", file=sys.stderr)
        return 2
    plugin_dir = Path(args.plugin_dir).expanduser().resolve() if args.plugin_dir else None
    if plugin_dir is not None and not (plugin_dir / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        print(
            f"{plugin_dir}: not a provider mirror (expected registry.terraform.io/hashicorp/aws/<version>/"
            f"<os>_<arch>/ inside); set --plugin-dir or ${MIRROR_ENV}",
            file=sys.stderr,
        )
        return 2
    out = args.out.resolve()
    root = offline_copy(out / "terraform")
    zip_path = REPO / "build" / "dms-intake.zip"
    if not zip_path.exists():
        zip_path = placeholder_zip(out / "dms-intake-placeholder.zip")
        print(
            f"no build/dms-intake.zip: planning a placeholder ({zip_path}); "
            "`make lambda-zip` builds the real one"
        )

    done = init(root, plugin_dir)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        return 1
    extra = [
        f"-var-file={var_file}",
        f"-var=account_id={args.account_id}",
        f"-var=lambda_zip_path={zip_path}",
    ]
    done = plan(root, extra)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return 1
    shown = terraform(["show", "-json", "offline.tfplan"], root)
    (out / "plan.json").write_text(shown.stdout)
    changes = json.loads(shown.stdout).get("resource_changes", []) if shown.returncode == 0 else []
    print(f"\noffline plan: {len(changes)} resource change(s); saved as {root / 'offline.tfplan'}")
    print(f"JSON: {out / 'plan.json'} (terraform show -json); not for apply: its provider is fake")
    return 0


if __name__ == "__main__":
    sys.exit(main())
