"""Local stand-ins for the AWS endpoints the root module talks to, for a real ``terraform apply``.

DMS and Step Functions are ``derson-lake serve`` (a subprocess, as a user runs it); IAM, STS, S3,
Lambda, SNS, Secrets Manager, CloudWatch Logs, EventBridge (rules and Scheduler) and CloudWatch
alarms are one moto server (moto serves
every service on one port). ``provider_override`` points the AWS provider at both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.infra.tf import REPO

# moto's STS answers GetCallerIdentity with this account; serve uses the same one in its ARNs.
ACCOUNT = "123456789012"
REGION = "us-east-1"
# Services of the provider's `endpoints` block that moto answers.
MOTO_SERVICES = (
    "iam",
    "sts",
    "s3",
    "lambda",
    "sns",
    "secretsmanager",
    "logs",
    "events",
    "ec2",
    "kms",
    "scheduler",
    "cloudwatch",
    "glue",
)
SERVE_SERVICES = ("dms", "sfn")


@contextmanager
def moto_server() -> Iterator[str]:
    from moto.iam.models import iam_backends
    from moto.server import ThreadedMotoServer

    # dms-vpc-role and dms-cloudwatch-logs-role attach AWS managed policies, which moto knows only
    # when asked to load them, and reads the setting once, when an account's IAM backend is made:
    # a moto used earlier in this process (another test's S3) may have made it without them.
    before = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    iam_backends.reset()
    undo = _moto_lambda_keeps_logging_config()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        undo()
        if before is None:
            os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        else:
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = before


def _moto_lambda_keeps_logging_config() -> Callable[[], None]:
    """moto 5.2.5 drops a function's ``LoggingConfig``; AWS keeps it and returns it from GetFunction
    (botocore's ``FunctionConfiguration.LoggingConfig``), defaulting to Text into
    ``/aws/lambda/<name>``. Without it every plan would show the lambda module's ``logging_config``
    as a change. This patch (moto's gap, not ours) makes moto keep and return it as AWS does."""
    from moto.awslambda.models import LambdaFunction

    init, get_configuration, update = (
        LambdaFunction.__init__,
        LambdaFunction.get_configuration,
        LambdaFunction.update_configuration,
    )

    def __init__(self, account_id, spec, region, version=1):  # type: ignore[no-untyped-def]
        init(self, account_id, spec, region, version)
        given = spec.get("LoggingConfig") or {}
        self.logging_config = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{self.function_name}", **given}

    def get_configuration_(self, on_create=False):  # type: ignore[no-untyped-def]
        return {**get_configuration(self, on_create), "LoggingConfig": self.logging_config}

    def update_configuration(self, config_updates):  # type: ignore[no-untyped-def]
        if "LoggingConfig" in config_updates:
            self.logging_config = {**self.logging_config, **config_updates["LoggingConfig"]}
        return update(self, config_updates)

    LambdaFunction.__init__ = __init__  # type: ignore[method-assign]
    LambdaFunction.get_configuration = get_configuration_  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]

    def undo() -> None:
        LambdaFunction.__init__ = init  # type: ignore[method-assign]
        LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign]
        LambdaFunction.update_configuration = update  # type: ignore[method-assign]

    return undo


@contextmanager
def serve_process(folder: Path, owners_dir: Path | None = None) -> Iterator[str]:
    """``derson-lake serve`` on a free port, with its own stores and no pipelines registered at
    start (Terraform creates the state machines); its DMS reads owners from ``owners_dir``."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "DERSON_HOME": str(folder / ".derson"),
        **({"DERSON_OWNERS_DIR": str(owners_dir)} if owners_dir else {}),
    }
    log = (folder / "serve.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dersonlake",
            "serve",
            "--port",
            "0",
            "--db",
            str(folder / "states.sqlite"),
            "--replication-db",
            str(folder / "replication.sqlite"),
            "--pipelines",
            str(folder / "no-pipelines"),
            "--region",
            REGION,
            "--account-id",
            ACCOUNT,
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        url = _read_url(proc, folder / "serve.log")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _read_url(proc: subprocess.Popen, log: Path) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"derson-lake serve exited (rc {proc.poll()}):\n{log.read_text()[-3000:]}")
        if line.startswith("derson-lake serve: "):
            url = line.split(": ", 1)[1].strip()
            _wait_healthy(url)
            return url
    raise RuntimeError("derson-lake serve printed no URL within 60 s")


def _wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def provider_override(moto_url: str, serve_url: str) -> str:
    """A provider block for an ``*_override.tf``: fake keys, every endpoint local."""
    endpoints = "\n".join(
        [f'    {name} = "{moto_url}"' for name in MOTO_SERVICES]
        + [f'    {name} = "{serve_url}"' for name in SERVE_SERVICES]
    )
    return f"""
provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  region                      = "{REGION}"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""
