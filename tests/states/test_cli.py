"""``derson-lake states ...``: exit codes 0/1/2, JSON output, no tracebacks."""

from __future__ import annotations

import json

import pytest

from dersonlake.cli.main import main

FN = "arn:aws:lambda:us-east-1:000000000000:function:"


def cli(capsys, *args):
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DERSON_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DERSON_LAMBDAS", raising=False)
    return tmp_path


def write(path, definition):
    path.write_text(json.dumps(definition))
    return str(path)


def test_create_start_wait_describe_history(home, capsys):
    d = write(
        home / "m.json",
        {
            "StartAt": "T",
            "States": {
                "T": {"Type": "Task", "Resource": FN + "double", "Next": "W"},
                "W": {"Type": "Wait", "Seconds": 60, "End": True},
            },
        },
    )
    code, out, _ = cli(capsys, "states", "create", "doubler", "--definition", d)
    assert code == 0 and json.loads(out)["stateMachineArn"].endswith(":stateMachine:doubler")
    code, out, err = cli(
        capsys,
        "states",
        "start",
        "doubler",
        "--input",
        "21",
        "--wait",
        "--time-scale",
        "0",
        "--lambda",
        "double=tests.states.handlers:double",
    )
    assert code == 0, err
    res = json.loads(out)
    assert res["status"] == "SUCCEEDED" and res["output"] == 42
    code, out, _ = cli(capsys, "states", "list")
    assert [m["name"] for m in json.loads(out)] == ["doubler"]
    code, out, _ = cli(capsys, "states", "describe", res["executionArn"])
    assert json.loads(out)["status"] == "SUCCEEDED"
    code, out, _ = cli(capsys, "states", "history", res["executionArn"])
    assert json.loads(out)[-1]["type"] == "ExecutionSucceeded"
    code, out, _ = cli(capsys, "states", "executions", "doubler", "--status", "SUCCEEDED")
    assert len(json.loads(out)) == 1


def test_failed_execution_exits_1_and_redrive(home, capsys, monkeypatch):
    d = write(
        home / "f.json",
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN + "nr", "End": True}}},
    )
    cli(capsys, "states", "create", "f", "--definition", d)
    code, out, _ = cli(
        capsys, "states", "start", "f", "--wait", "--lambda", "nr=tests.states.handlers:not_ready"
    )
    res = json.loads(out)
    assert code == 1 and res["status"] == "FAILED" and res["error"] == "NotReady"
    monkeypatch.setenv("DERSON_LAMBDAS", "nr=tests.states.handlers:double")
    code, out, _ = cli(capsys, "states", "redrive", res["executionArn"], "--wait")
    assert code == 1 and "TypeError" in out  # double({}) fails differently: the task really ran again


def test_stop(home, capsys):
    d = write(
        home / "w.json", {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    )
    cli(capsys, "states", "create", "w", "--definition", d)
    code, out, _ = cli(capsys, "states", "start", "w", "--name", "one")
    arn = json.loads(out)["executionArn"]
    assert json.loads(out)["status"] == "RUNNING" and arn.endswith(":execution:w:one")
    code, out, _ = cli(capsys, "states", "stop", arn)
    assert code == 0
    code, out, _ = cli(capsys, "states", "describe", arn)
    assert json.loads(out)["status"] == "ABORTED"


def test_bad_json_input_exits_2_without_traceback(home, capsys):
    d = write(home / "p.json", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    cli(capsys, "states", "create", "p", "--definition", d)
    code, _, err = cli(capsys, "states", "start", "p", "--input", "{oops")
    assert code == 2
    assert "not valid JSON" in err and "Traceback" not in err


def test_malformed_definition_exits_2_naming_file_state_and_field(home, capsys):
    d = write(home / "bad.json", {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Gone"}}})
    code, _, err = cli(capsys, "states", "create", "bad", "--definition", d)
    assert code == 2
    assert "bad.json: States.A.Next: names no state in this scope" in err and "Traceback" not in err
    (home / "broken.json").write_text("{not json")
    code, _, err = cli(capsys, "states", "create", "bad", "--definition", str(home / "broken.json"))
    assert code == 2 and "not valid JSON" in err
    code, _, err = cli(capsys, "states", "create", "bad", "--definition", str(home / "missing.json"))
    assert code == 2 and "cannot read the definition" in err


def test_unknown_machine_exits_1(home, capsys):
    code, _, err = cli(capsys, "states", "start", "nope")
    assert code == 1 and "StateMachineDoesNotExist" in err
