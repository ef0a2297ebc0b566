"""The DMS-intake Lambda zip (scripts/lambda_zip.py, `make lambda-zip`): reproducible, small, and
self-sufficient: unpacked into a clean folder and run with only its own contents on sys.path (plus
the standard library), the handler's seven steps drive a real load through `derson-lake serve`.

The wheels are fetched from PyPI once into build/lambda-wheels/ (later builds are offline).
The zip targets the Lambda runtime (CPython 3.12, manylinux2014 x86_64). The subprocess uses a
CPython 3.12 when the machine has one (PATH, pyenv), and then also checks that PyYAML's compiled
``_yaml`` from the zip loads; else this interpreter, where PyYAML falls back to its pure-Python code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.infra import local_aws, tf
from tests.replication.conftest import write_owner

SCRIPT = tf.REPO / "scripts" / "lambda_zip.py"

DRIVER = r"""
import json, os, sys, time
root = sys.argv[1]
sys.path.insert(0, root)
from dersonlake.intake.lambda_function import lambda_handler
import boto3, botocore, dateutil, jmespath, urllib3, yaml, dersonlake
for module in (boto3, botocore, dateutil, jmespath, urllib3, yaml, dersonlake):
    assert module.__file__.startswith(root), f"{module.__name__} came from {module.__file__}"
assert not [p for p in sys.path if "site-packages" in p or "dist-packages" in p], sys.path
if sys.version_info[:2] == (3, 12):
    assert yaml.__with_libyaml__, "the zip's compiled _yaml (cp312) did not load"

def step(name, **extra):
    return lambda_handler({"owner": "acme", "step": name, "delta": False, **extra}, None)

done = {}
instance = step("create_instance")
instance = step("check_instance_status", instance=instance)
done["instance"] = instance["ReplicationInstanceStatus"]
task = step("create_replication_task", instance=instance)
step("start_replication_task", instance=instance, task=task)
deadline = time.monotonic() + 120
while (status := step("check_replication_task_status", task=task))["Status"] not in ("stopped", "failed"):
    assert time.monotonic() < deadline, status
    time.sleep(0.2)
done["task"] = status
done["delete_task"] = step("delete_task", task=task)
done["delete_instance"] = step("delete_instance", instance=instance)
print(json.dumps(done))
"""


def _load_script():
    spec = importlib.util.spec_from_file_location("lambda_zip", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def python312() -> str | None:
    """A working CPython 3.12 (the Lambda runtime's), or None."""
    candidates = [
        shutil.which("python3.12"),
        *sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12")),
    ]
    for candidate in candidates:
        if not candidate:
            continue
        proc = subprocess.run(
            [str(candidate), "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0 and proc.stdout.strip() == "True":
            return str(candidate)
    return None


def _build(out: Path) -> str:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("zip") / "dms-intake.zip"
    return out, _build(out)


def test_the_zip_is_reproducible_and_reports_its_size(built, tmp_path):
    first, report = built
    again = tmp_path / "again.zip"
    _build(again)
    assert hashlib.sha256(first.read_bytes()).hexdigest() == hashlib.sha256(again.read_bytes()).hexdigest()
    assert "total" in report and "botocore" in report and "dersonlake" in report
    assert first.with_name("dms-intake.sizes.txt").read_text() == report
    with zipfile.ZipFile(first) as z:
        infos = z.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_the_zip_holds_what_the_handler_needs_and_little_else(built):
    zip_path, _ = built
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
    assert "dersonlake/intake/lambda_function.py" in names
    assert "owners/dersonLake/owner.yaml" in names and "owners/dersonLake/mapping.json" in names
    services = {n.split("/")[2] for n in names if n.startswith("botocore/data/") and n.count("/") >= 3}
    assert services == {"dms"}
    assert "botocore/data/endpoints.json" in names
    assert any(n.startswith("yaml/_yaml.cpython-312-x86_64-linux-gnu") for n in names)  # Lambda's CPython
    assert not [n for n in names if n.startswith(("pyarrow/", "pymysql/", "starlette/"))]
    assert zip_path.stat().st_size < 5 * 2**20


def test_the_runtime_matches_the_lambda_module():
    runtime = tf.load_hcl(tf.MODULES / "lambda" / "variables.tf")
    (var,) = [v for v in runtime["variable"] if "runtime" in v]
    assert var["runtime"]["default"] == "python" + _load_script().PYTHON_VERSION
    root = tf.load_hcl(tf.TF_ROOT / "variables.tf")
    (zip_var,) = [v for v in root["variable"] if "lambda_zip_path" in v]
    assert (
        tf.TF_ROOT / zip_var["lambda_zip_path"]["default"]
    ).resolve() == tf.REPO / "build" / "dms-intake.zip"


def test_unpacked_alone_the_handler_runs_its_steps_against_serve(built, sandbox, tmp_path):
    """A `derson-lake serve` process; the owner ``acme`` reads the session sandbox into a folder."""
    zip_path, _ = built
    owners_root = tmp_path / "owners-root"
    write_owner(owners_root, sandbox, name="acme")
    with local_aws.serve_process(tmp_path / "serve", owners_root / "owners") as url:
        done = _run_steps(zip_path, url, owners_root, tmp_path)
    assert done["instance"] == "available"
    assert done["task"]["Status"] == "stopped", done["task"]
    assert done["task"]["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert done["task"]["FullLoadRows"] > 0
    assert done["delete_task"]["deleted"] is True and done["delete_instance"]["deleted"] is True
    assert list((owners_root / "lake").rglob("*.parquet"))


def _run_steps(zip_path: Path, url: str, owners_root: Path, tmp_path: Path) -> dict:
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(unpacked)
    (tmp_path / "driver.py").write_text(DRIVER)
    python = python312() or sys.executable
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DERSON_DMS_ENDPOINT_URL": url,
        "DERSON_OWNERS_DIR": str(owners_root / "owners"),
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # -I: no PYTHONPATH, no user site; -S: no site-packages. Only the stdlib and the unpacked zip.
    proc = subprocess.run(
        [python, "-I", "-S", str(tmp_path / "driver.py"), str(unpacked)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
