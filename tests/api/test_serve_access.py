"""``derson-lake serve`` once reachable: SigV4 checked against configured credentials (recomputed with
botocore's signer), the ``Host`` header checked against DNS rebinding, bodies and JSON depth limited,
TestConnection only towards configured sources. Real server processes, real boto3 and ``aws`` CLI,
raw HTTP for what clients would never send."""

from __future__ import annotations

import base64
import http.client
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.api.test_serve_cli import AWS, ROOT, env
from tests.replication.conftest import write_owner

KEY, SECRET = "AKIDSERVETEST", "s3cret-serve-test"


class Served:
    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"


def credentials_file(folder: Path) -> Path:
    path = folder / "credentials"
    path.write_text(f"[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
    path.chmod(0o600)
    return path


def start(tmp: Path, *args: str, extra_env: dict[str, str] | None = None) -> Served:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "serve", "--port", "0", "--db", str(tmp / "states.sqlite"),
         "--time-scale", "0.01", *args],
        cwd=ROOT, env={**env(tmp), **(extra_env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("derson-lake serve: "):
            return Served(proc, int(line.rsplit(":", 1)[1]))
    proc.wait(timeout=10)
    raise AssertionError(f"serve did not start: {proc.stderr.read() if proc.stderr else ''}")


def stop(served: Served) -> None:
    served.proc.send_signal(signal.SIGINT)
    try:
        served.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        served.proc.kill()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server bound to all addresses, with credentials (the only way it starts there)."""
    tmp = tmp_path_factory.mktemp("serve-auth")
    served = start(tmp, "--host", "0.0.0.0", "--credentials-file", str(credentials_file(tmp)))
    yield served
    stop(served)


@pytest.fixture(scope="module")
def open_loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The default: loopback, no credentials (Host check and limits still apply)."""
    served = start(tmp_path_factory.mktemp("serve-open"))
    yield served
    stop(served)


def client(url: str, service: str, key: str | None = KEY, secret: str | None = SECRET) -> Any:
    if key is None:
        return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                            config=botocore.config.Config(signature_version=UNSIGNED))  # fmt: skip
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def raw(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def signed_headers(port: int, body: bytes, target: str, secret: str = SECRET) -> dict[str, str]:
    request = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:{port}/",
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
    )
    SigV4Auth(Credentials(KEY, secret), "states", "us-east-1").add_auth(request)
    return dict(request.headers.items())


# -- starting --------------------------------------------------------------------------------------
def test_a_non_loopback_address_without_credentials_is_refused(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "dersonlake", "serve", "--host", "0.0.0.0", "--port", "0",
         "--db", str(tmp_path / "states.sqlite")],
        cwd=ROOT, env=env(tmp_path), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--credentials-file" in done.stderr and "0.0.0.0" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "states.sqlite").exists()


# -- SigV4 -----------------------------------------------------------------------------------------
def test_boto3_with_the_right_secret_is_served(guarded):
    names = [m["name"] for m in client(guarded.url, "stepfunctions").list_state_machines()["stateMachines"]]
    assert "derson-Main" in names
    dms = client(guarded.url, "dms")
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):  # past authentication: AWS's "none"
        dms.describe_replication_tasks()


@pytest.mark.parametrize(
    ("key", "secret", "code"),
    [
        (KEY, "the-wrong-secret", "InvalidSignatureException"),
        ("AKIDNOBODY", SECRET, "UnrecognizedClientException"),
        (None, None, "MissingAuthenticationTokenException"),
    ],
    ids=["wrong secret", "unknown key", "unsigned"],
)
def test_wrong_or_missing_signatures_are_refused(guarded, key, secret, code):
    for service, call in (("stepfunctions", "list_state_machines"), ("dms", "describe_replication_tasks")):
        with pytest.raises(ClientError) as err:
            getattr(client(guarded.url, service, key, secret), call)()
        assert err.value.response["Error"]["Code"] == code
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_signed_request_with_another_body_is_refused(guarded):
    body = json.dumps({}).encode()
    headers = signed_headers(guarded.port, body, "AWSStepFunctions.ListStateMachines")
    status, _, answer = raw(guarded.port, "POST", "/", body, headers)
    assert status == 200, answer
    tampered = json.dumps({"maxResults": 1}).encode()
    status, _, answer = raw(
        guarded.port, "POST", "/", tampered, {**headers, "Content-Length": str(len(tampered))}
    )
    assert status == 403 and json.loads(answer)["__type"] == "InvalidSignatureException"


def test_the_aws_cli_signs_with_the_configured_key(guarded):
    def aws(key: str, secret: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AWS), "--endpoint-url", guarded.url, "stepfunctions", "list-state-machines"],
            env={**env(), "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    good = aws(KEY, SECRET)
    assert good.returncode == 0 and "derson-Main" in good.stdout, good.stderr
    bad = aws(KEY, "nope")
    assert bad.returncode != 0 and "InvalidSignatureException" in bad.stderr


def test_the_dashboard_asks_for_the_key_and_health_stays_open(guarded):
    status, headers, _ = raw(guarded.port, "GET", "/")
    assert status == 401 and headers.get("www-authenticate", "").startswith("Basic")
    assert raw(guarded.port, "GET", "/metrics")[0] == 401

    wrong = base64.b64encode(f"{KEY}:nope".encode()).decode()
    assert raw(guarded.port, "GET", "/", headers={"Authorization": f"Basic {wrong}"})[0] == 401
    right = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    status, _, page = raw(guarded.port, "GET", "/", headers={"Authorization": f"Basic {right}"})
    assert status == 200 and b"<html" in page.lower()
    assert raw(guarded.port, "GET", "/health")[0] == 200


# -- Host, body size, depth (also on the default loopback server) ----------------------------------
@pytest.mark.parametrize("path", ["/", "/api/executions", "/metrics"])
def test_a_foreign_host_header_is_refused_dns_rebinding(open_loopback, path):
    status, _, answer = raw(open_loopback.port, "GET", path, headers={"Host": "evil.example:4599"})
    assert status == 403 and "evil.example" in json.loads(answer)["message"]
    for host in (f"127.0.0.1:{open_loopback.port}", f"localhost:{open_loopback.port}"):
        assert raw(open_loopback.port, "GET", path, headers={"Host": host})[0] == 200


def test_a_foreign_host_is_refused_on_the_aws_endpoint_too(open_loopback):
    headers = {"Host": "rebind.attacker.test", "X-Amz-Target": "AWSStepFunctions.ListStateMachines"}
    status, _, answer = raw(open_loopback.port, "POST", "/", b"{}", headers)
    assert status == 403 and json.loads(answer)["__type"] == "AccessDeniedException"


def test_an_oversized_body_is_refused_with_413_before_it_is_read(open_loopback):
    headers = {"X-Amz-Target": "AWSStepFunctions.ListStateMachines", "Content-Length": str(100 * 1024 * 1024)}
    with socket.create_connection(("127.0.0.1", open_loopback.port), timeout=30) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode() + b"{" * 1024)
        answer = b""
        while chunk := sock.recv(65536):  # answered (and closed) with 1 KiB sent of the announced 100 MB
            answer += chunk
        answer = answer.decode()
    assert answer.startswith("HTTP/1.1 413") and "RequestEntityTooLargeException" in answer


def test_an_oversized_chunked_body_is_refused(open_loopback):
    conn = http.client.HTTPConnection("127.0.0.1", open_loopback.port, timeout=60)

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * (1024 * 1024)

    try:
        conn.request("POST", "/", body=chunks(), headers={"X-Amz-Target": "AWSStepFunctions.ListStateMachines"},
                     encode_chunked=True)  # fmt: skip
        response = conn.getresponse()
        assert response.status == 413
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused while we were still sending: also a refusal, never a 500
    finally:
        conn.close()


def test_deeply_nested_json_is_a_400_not_a_500(open_loopback):
    sfn = client(open_loopback.url, "stepfunctions", "x", "x")
    deep = "[" * 100_000 + "]" * 100_000
    headers = {
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        "Content-Type": "application/x-amz-json-1.0",
    }
    status, _, answer = raw(open_loopback.port, "POST", "/", ('{"a":' + deep + "}").encode(), headers)
    assert status == 400 and json.loads(answer)["__type"] == "SerializationException"
    for definition in (deep, '{"States":' + "{" * 5000 + "}" * 5000 + "}"):
        with pytest.raises(ClientError) as err:
            sfn.create_state_machine(
                name="deep", definition=definition, roleArn="arn:aws:iam::000000000000:role/x"
            )
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, err.value.response


# -- TestConnection --------------------------------------------------------------------------------
def test_test_connection_only_reaches_configured_sources(tmp_path, sandbox):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    write_owner(tmp_path, sandbox, name="acme")
    served = start(tmp_path, extra_env={"DERSON_OWNERS_DIR": str(tmp_path / "owners")})
    try:
        dms = client(served.url, "dms", "x", "x")
        instance = dms.create_replication_instance(
            ReplicationInstanceIdentifier="probe", ReplicationInstanceClass="dms.t3.micro"
        )["ReplicationInstance"]["ReplicationInstanceArn"]
        dms.get_waiter("replication_instance_available").wait(
            Filters=[{"Name": "replication-instance-arn", "Values": [instance]}],
            WaiterConfig={"Delay": 1, "MaxAttempts": 120},
        )
        endpoints = {
            name: dms.create_endpoint(EndpointIdentifier=name, EndpointType="source", EngineName="mariadb",
                                      ServerName="127.0.0.1", Port=port, Username="u", Password="p")["Endpoint"]
            for name, port in (("elsewhere", listener.getsockname()[1]), ("configured", sandbox.port))
        }  # fmt: skip
        for endpoint in endpoints.values():
            dms.test_connection(ReplicationInstanceArn=instance, EndpointArn=endpoint["EndpointArn"])
        results = {}
        for _ in range(300):
            rows = dms.describe_connections()["Connections"]
            results = {r["EndpointIdentifier"]: r for r in rows}
            if all(r["Status"] != "testing" for r in rows) and len(rows) == 2:
                break
            threading.Event().wait(0.1)
        refused = results["elsewhere"]
        assert (
            refused["Status"] == "failed"
            and "is not the source of any owner" in refused["LastFailureMessage"]
        )
        assert accepted == []  # never even connected
        assert "Access denied" in results["configured"]["LastFailureMessage"]  # reached, wrong password
    finally:
        stop(served)
        listener.close()


# -- the in-process DMS-intake signs too -----------------------------------------------------------
def test_run_against_a_guarded_serve_signs_end_to_end(tmp_path, sandbox):
    write_owner(tmp_path, sandbox, name="acme")
    owners = {"DERSON_OWNERS_DIR": str(tmp_path / "owners")}
    (tmp_path / ".derson").mkdir()
    served = start(
        tmp_path / ".derson",
        "--credentials-file", str(credentials_file(tmp_path)),
        "--lambda", "DMS-intake=dersonlake.intake.lambda_function:lambda_handler",
        extra_env=owners,
    )  # fmt: skip
    try:
        child = {
            **env(tmp_path / ".derson"),
            **owners,
            "AWS_ACCESS_KEY_ID": KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET,
        }
        done = subprocess.run(
            [sys.executable, "-m", "dersonlake", "run", "acme", "--endpoint-url", served.url],
            cwd=ROOT, env=child, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "acme: SUCCEEDED" in done.stdout
        refused = subprocess.run(
            [sys.executable, "-m", "dersonlake", "run", "acme", "--endpoint-url", served.url],
            cwd=ROOT, env={**child, "AWS_SECRET_ACCESS_KEY": "wrong"}, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert refused.returncode != 0 and "InvalidSignatureException" in refused.stdout + refused.stderr
        assert "Traceback" not in refused.stderr
    finally:
        stop(served)
