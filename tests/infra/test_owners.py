"""infra/terraform/owners/<owner>.json: what Terraform knows of each owner. They must be up to date
with owners/<owner>/ and carry the fully merged task settings (no Terraform drift)."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest

from dersonlake.config.owner import list_owners, load_owner
from dersonlake.config.s3_settings import setting_names
from dersonlake.mapping.task_settings import DEFAULTS, parse_task_settings
from tests.infra import tf

OWNERS = tf.REPO / "owners"
GENERATED = tf.TF_ROOT / "owners"


def _load_generator():
    """scripts/terraform_owners.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "terraform_owners", tf.REPO / "scripts" / "terraform_owners.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen():
    return _load_generator()


def _s3_attributes(hcl) -> set[str]:
    for block in hcl(tf.MODULES / "dms-endpoint" / "variables.tf")["variable"]:
        if "s3_settings" in block:
            return set(re.findall(r"(\w+)\s*=\s*optional\(", block["s3_settings"]["type"]))
    raise AssertionError("dms-endpoint has no s3_settings variable")


def test_every_owner_has_an_up_to_date_file(gen, capsys):
    assert list_owners(OWNERS), "no owners to check"
    rc = gen.main(["--check", "--owners-dir", str(OWNERS), "--out", str(GENERATED)])
    assert rc == 0, f"run `make tf-owners`: {capsys.readouterr().err}"


def test_a_stale_file_is_reported(gen, tmp_path, capsys):
    assert gen.main(["--owners-dir", str(OWNERS), "--out", str(tmp_path)]) == 0
    path = tmp_path / "dersonLake.json"
    doc = json.loads(path.read_text())
    doc["migration_type"] = "cdc"
    path.write_text(json.dumps(doc))
    assert gen.main(["--check", "--owners-dir", str(OWNERS), "--out", str(tmp_path)]) == 1
    assert "dersonLake.json" in capsys.readouterr().err


@pytest.mark.parametrize("name", list_owners(OWNERS))
def test_task_settings_are_the_fully_merged_document(name):
    owner = load_owner(name, OWNERS)
    doc = json.loads((GENERATED / f"{name}.json").read_text(encoding="utf-8"))
    expected = json.loads(parse_task_settings(owner.task_settings).to_json())
    assert doc["task_settings"] == expected
    assert set(doc["task_settings"]) == set(DEFAULTS), "every section DMS returns"
    assert doc["table_mappings"] == owner.mapping
    assert doc["migration_type"] == owner.migration_type


@pytest.mark.parametrize("name", list_owners(OWNERS))
def test_s3_settings_are_module_arguments(name, hcl):
    doc = json.loads((GENERATED / f"{name}.json").read_text(encoding="utf-8"))
    assert set(doc["s3_settings"]) <= _s3_attributes(hcl)


def test_the_endpoint_module_takes_every_s3_setting_an_owner_may_use(gen, hcl):
    """Every DMS S3Settings key the owner config accepts has a dms-endpoint argument."""
    not_owner = {
        "BucketName",
        "BucketFolder",
        "ServiceAccessRoleArn",
        "ExternalTableDefinition",
        "IgnoreHeaderRows",
    }
    names = {gen.provider_name(k) for k in setting_names() if k not in not_owner}
    missing = names - _s3_attributes(hcl)
    assert not missing, f"dms-endpoint s3_settings lacks {sorted(missing)}"
    assert gen.provider_name("Rfc4180") == "rfc_4180"
    assert gen.provider_name("ServerSideEncryptionKmsKeyId") == "server_side_encryption_kms_key_id"


def test_a_bad_owner_is_an_error_not_a_file(gen, tmp_path, capsys):
    bad = tmp_path / "owners" / "bad"
    bad.mkdir(parents=True)
    (bad / "owner.yaml").write_text(
        "source: {engine: mysql, host: h, user: u, password_env: X, databases: [d]}\n"
        "target: {uri: 's3://b/f', s3_settings: {DataFormat: orc}}\n"
    )
    (bad / "mapping.json").write_text('{"rules": []}')
    assert gen.main(["--owners-dir", str(tmp_path / "owners"), "--out", str(tmp_path / "out")]) == 2
    assert "DataFormat" in capsys.readouterr().err
    assert not (tmp_path / "out" / "bad.json").exists()
