"""Static checks of the Terraform sources: they parse, they are formatted, and every variable is
typed and described; each module has the files the issue asks for."""

from __future__ import annotations

import re

import pytest

from tests.infra import tf


def test_every_tf_file_parses(hcl):
    files = tf.tf_files()
    assert len(files) >= 6 * 4 + 3 * 2 + 4, [str(f) for f in files]
    for path in files:
        doc = hcl(path)
        assert isinstance(doc, dict), path


@pytest.mark.parametrize("module", tf.MODULE_NAMES)
def test_module_layout(module):
    folder = tf.MODULES / module
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (folder / name).is_file(), f"{folder}/{name} is missing"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {module}\n"), f"{module}/README.md should start with its name"


@pytest.mark.parametrize("pipeline", tf.PIPELINE_NAMES)
def test_pipeline_layout(pipeline):
    folder = tf.PIPELINES / pipeline
    for name in ("main.tf", "vars.tf", "states.json"):
        assert (folder / name).is_file(), f"{folder}/{name} is missing"


def _variable_files():
    yield tf.TF_ROOT / "variables.tf"
    for module in tf.MODULE_NAMES:
        yield tf.MODULES / module / "variables.tf"
    for pipeline in tf.PIPELINE_NAMES:
        yield tf.PIPELINES / pipeline / "vars.tf"


def test_every_variable_has_a_type_and_a_description(hcl):
    problems, count = [], 0
    for path in _variable_files():
        for block in hcl(path).get("variable", []):
            for name, body in block.items():
                count += 1
                where = f"{path.relative_to(tf.REPO)}: variable {name!r}"
                if not str(body.get("type", "")).strip():
                    problems.append(f"{where} has no type")
                description = str(body.get("description", "")).strip()
                if len(description) < 10:
                    problems.append(f"{where} has no (real) description")
    assert count > 60
    assert not problems, "\n".join(problems)


def test_every_output_has_a_description(hcl):
    count = 0
    for path in tf.tf_files():
        for block in hcl(path).get("output", []):
            for name, body in block.items():
                count += 1
                assert len(str(body.get("description", "")).strip()) >= 10, f"{path}: output {name!r}"
    assert count > 20


def test_tfvars_example_sets_only_root_variables(hcl):
    example = {
        k: v for k, v in tf.load_hcl(tf.TF_ROOT / "terraform.tfvars.example").items() if k != "__comments__"
    }
    declared = {name for block in hcl(tf.TF_ROOT / "variables.tf")["variable"] for name in block}
    assert set(example) <= declared, f"unknown variables: {set(example) - declared}"
    required = {
        name
        for block in hcl(tf.TF_ROOT / "variables.tf")["variable"]
        for name, body in block.items()
        if "default" not in body
    }
    assert required <= set(example), f"the example misses required variables: {required - set(example)}"


def test_variables_are_only_declared_in_variable_files(hcl):
    """Variables live where the README says (variables.tf; vars.tf in the pipelines)."""
    for path in tf.tf_files():
        if path.name in ("variables.tf", "vars.tf"):
            continue
        assert "variable" not in hcl(path), f"{path}: declare variables in variables.tf"


def test_validated_where_aws_constrains(hcl):
    """Values AWS restricts carry a validation block (a sample of them, per module)."""
    must_validate = {
        "dms-endpoint": {"name", "source_engine", "secret_arn", "ssl_mode", "bucket_name", "s3_settings"},
        "dms-instance": {"name", "subnet_ids", "instance_class", "allocated_storage", "engine_version"},
        "dms-task": {"task_id", "migration_type", "table_mappings", "task_settings"},
        "iam-role": {"account_id", "region", "lake_bucket_name", "source_secret_arns", "error_topic_arn"},
        "lambda": {"function_name", "zip_path", "runtime", "timeout", "memory_size", "log_retention_days"},
        "step-function": {"name", "type", "log_level", "log_retention_days"},
    }
    for module, names in must_validate.items():
        variables = {}
        for block in hcl(tf.MODULES / module / "variables.tf")["variable"]:
            variables.update(block)
        for name in names:
            assert variables[name].get("validation"), f"{module}: variable {name!r} has no validation"


def test_provider_constraint_admits_the_mirror_version(hcl):
    """The mirror holds aws 5.100.0: the root pins exactly it (no floating provider until the lock
    file is committed); modules and pipelines allow it and stay on 5.x, so they can be reused."""
    found = 0
    for path in tf.tf_files():
        for block in hcl(path).get("terraform", []):
            for req in block.get("required_providers", []):
                version = req["aws"]["version"]
                found += 1
                expected = "5.100.0" if path == tf.TF_ROOT / "versions.tf" else ">= 5.60, < 6.0"
                assert version == expected, f"{path}: aws version {version!r}"
    assert found == len(tf.MODULE_NAMES) + len(tf.PIPELINE_NAMES) + 1


@pytest.mark.skipif(tf.terraform_bin() is None, reason="no terraform binary on PATH: `terraform fmt` not run")
def test_terraform_fmt_is_clean(tmp_path):
    proc = tf.run_tf(["fmt", "-check", "-recursive", "-diff", str(tf.TF_ROOT)], cwd=tmp_path, check=False)
    assert proc.returncode == 0, f"run `make fmt`; unformatted:\n{proc.stdout}{proc.stderr}"


def test_no_secrets_or_state_committed():
    for path in tf.TF_ROOT.rglob("*"):
        assert not path.name.endswith((".tfstate", ".tfstate.backup", ".tfplan")), path
        assert path.name != "terraform.tfvars", path
    keyish = re.compile(r"AKIA[0-9A-Z]{16}|aws_secret_access_key|secret_key\s*=")
    for path in tf.tf_files():
        assert not keyish.search(path.read_text(encoding="utf-8")), f"{path}: looks like a credential"
