"""The DMS-iceberg container image's inputs (infra/iceberg/): pinned as the tests ran them.

No Docker daemon is needed (nor assumed): the image is built by ``make iceberg-image``. What can
drift without one is checked here: every direct pin of ``requirements.txt`` is the one
``pyproject.toml`` pins and the test-suite ran, every transitive pin satisfies what its dependents
require; every distribution the handler's code path
imports is pinned; the Dockerfile's CMD is the handler and its owners folder is where Terraform's
``DERSON_OWNERS_DIR`` points.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import re
import subprocess
import sys
import tomllib

from packaging.requirements import Requirement

from tests.infra import tf

IMAGE = tf.REPO / "infra" / "iceberg"
HANDLER = "dersonlake.iceberg_step.lambda_function.lambda_handler"
# Imported only because the test-suite's environment has them; their importers go on without them.
OPTIONAL = {
    "cryptography": "PyMySQL's sha256/caching_sha2 auth (try/except ImportError); the handler never connects",
    "cffi": "cryptography's",
    "pysocks": "urllib3/requests' SOCKS proxy support (try/except ImportError)",
    "setuptools": "the venv's _distutils_hack .pth hook, not the handler",
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    out = {}
    for line in (IMAGE / "requirements.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+-]+)", line.strip())
        assert m, f"infra/iceberg/requirements.txt: {line!r} is not an exact name==version pin"
        out[_norm(m.group(1))] = m.group(2)
    return out


def test_requirements_pin_what_pyproject_pins_and_the_tests_ran():
    pinned = pins()
    deps = tomllib.loads((tf.REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?==(\S+)", dep)
        assert m, f"pyproject.toml: {dep!r} is not an exact pin"
        name, version = _norm(m.group(1)), m.group(3)
        assert pinned.get(name) == version, (
            f"{name}: requirements.txt {pinned.get(name)}, pyproject {version}"
        )
    direct = {_norm(re.split(r"[\[=]", dep)[0]) for dep in deps}
    for name, version in pinned.items():
        if name in direct:  # what pyproject pins is what the tests ran
            assert md.version(name) == version, f"{name}: pinned {version}, the tests ran {md.version(name)}"
    # The transitive pins are not in pyproject (pip resolves them afresh for the tests, so they move
    # with releases): each must satisfy what every pinned distribution requires of it.
    for dependent in pinned:
        for req in md.requires(dependent) or []:
            r = Requirement(req)
            if r.marker is not None and not r.marker.evaluate({"extra": ""}):
                continue
            name = _norm(r.name)
            if name in pinned:
                assert r.specifier.contains(pinned[name], prereleases=True), (
                    f"infra/iceberg/requirements.txt: {name}=={pinned[name]} does not satisfy "
                    f"{dependent}'s {req!r}"
                )


def test_every_distribution_the_handler_imports_is_pinned():
    """Import the handler and what its Iceberg path loads (the catch-up, pyiceberg's Glue, REST and
    SQL catalogs) in a fresh interpreter: each third-party distribution of ``sys.modules`` is pinned."""
    code = (
        "import json, sys, importlib.metadata as md\n"
        "import dersonlake.iceberg_step.lambda_function, dersonlake.replication\n"
        "import pyiceberg.catalog.glue, pyiceberg.catalog.rest, pyiceberg.catalog.sql, pyiceberg.io.pyarrow\n"
        "owners = md.packages_distributions()\n"
        "tops = {m.split('.')[0] for m in sys.modules}\n"
        "print(json.dumps(sorted({d for t in tops for d in owners.get(t, [])})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported = {_norm(d) for d in json.loads(done.stdout)} - {"dersonlake"}
    missing = imported - set(pins()) - set(OPTIONAL)
    assert not missing, (
        f"imported by the handler's path but not pinned in infra/iceberg/requirements.txt: {missing}"
    )


def test_the_dockerfile_runs_the_handler_with_the_owners_terraform_names(hcl):
    text = (IMAGE / "Dockerfile").read_text()
    (cmd,) = re.findall(r'^CMD \["([^"]+)"\]$', text, re.M)
    assert cmd == HANDLER
    assert f'image_command      = ["{HANDLER}"]' in (tf.TF_ROOT / "main.tf").read_text()  # Terraform's
    module, _, function = cmd.rpartition(".")
    assert callable(getattr(__import__(module, fromlist=[function]), function))
    assert "infra/iceberg/requirements.txt" in text and "COPY owners ${LAMBDA_TASK_ROOT}/owners" in text
    (owners_dir,) = [v for v in hcl(tf.TF_ROOT / "variables.tf")["variable"] if "lambda_owners_dir" in v]
    assert (
        owners_dir["lambda_owners_dir"]["default"] == "/var/task/owners"
    )  # DERSON_OWNERS_DIR of both Lambdas
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\}$", text, re.M)
    assert "public.ecr.aws/lambda/python:3.12" in text  # the runtime DMS-intake's zip is built for
