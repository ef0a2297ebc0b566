"""The pipelines the server registers at start: rendered like Terraform's templatefile, idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dersonlake.api.pipelines import PipelineValues, register_pipelines, render
from dersonlake.errors import BadInput
from dersonlake.states import Engine

PIPELINES = Path(__file__).resolve().parents[2] / "infra" / "terraform" / "pipelines"


def test_render_fills_placeholders_and_keeps_escaped_ones() -> None:
    assert render('{"a": "${x}", "b": "$${x}"}', {"x": "1"}, "f.json") == '{"a": "1", "b": "${x}"}'
    with pytest.raises(BadInput, match="unknown placeholder"):
        render("${y}", {"x": "1"}, "f.json")


def test_a_prefix_renames_the_pipelines_and_their_references(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "s.sqlite", time_scale=0)
    values = PipelineValues(region="sa-east-1", account_id="123456789012", state_machine_prefix="dev-")
    arns = register_pipelines(engine, PIPELINES, values)
    assert arns[-1] == "arn:aws:states:us-east-1:000000000000:stateMachine:dev-derson-Main"
    main = engine.describe_state_machine(arns[-1])
    assert "arn:aws:states:sa-east-1:123456789012:stateMachine:dev-DMS-Handler" in main["definition"]
    assert main["roleArn"] == "arn:aws:iam::123456789012:role/dev-derson-lake-states"
    engine.close()


def test_registering_again_keeps_unchanged_machines_and_updates_changed_ones(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "s.sqlite", time_scale=0)
    register_pipelines(engine, PIPELINES, PipelineValues())
    arn = engine.state_machine_arn("derson-Main")
    assert "updateDate" not in engine.describe_state_machine(arn)
    register_pipelines(engine, PIPELINES, PipelineValues())
    assert "updateDate" not in engine.describe_state_machine(arn)
    register_pipelines(engine, PIPELINES, PipelineValues(lambda_function_name="other-intake"))
    handler = engine.describe_state_machine(engine.state_machine_arn("DMS-Handler"))
    assert "updateDate" in handler and "function:other-intake" in handler["definition"]
    assert json.loads(handler["definition"])["StartAt"]
    engine.close()
