"""What Step Functions keeps beside a definition, as the Terraform provider reads it back: logging
and tracing configuration, tags, and the (empty) lists of versions and aliases."""

from __future__ import annotations

import json
from typing import Any

import pytest

DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
ROLE = "arn:aws:iam::000000000000:role/sfn"
LOGS = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/states/x:*"


def test_logging_tracing_and_tags_are_kept_and_described(sfn: Any) -> None:
    arn = sfn.create_state_machine(
        name="settings-kept",
        definition=DEFINITION,
        roleArn=ROLE,
        loggingConfiguration={
            "level": "ERROR",
            "includeExecutionData": True,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": LOGS}}],
        },
        tracingConfiguration={"enabled": True},
        tags=[{"key": "team", "value": "data"}],
    )["stateMachineArn"]
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["loggingConfiguration"]["level"] == "ERROR"
    assert (
        described["loggingConfiguration"]["destinations"][0]["cloudWatchLogsLogGroup"]["logGroupArn"] == LOGS
    )
    assert described["tracingConfiguration"] == {"enabled": True}
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "data"}]

    sfn.update_state_machine(
        stateMachineArn=arn, loggingConfiguration={"level": "ALL", "includeExecutionData": False}
    )
    again = sfn.describe_state_machine(stateMachineArn=arn)
    assert again["loggingConfiguration"]["level"] == "ALL" and again["tracingConfiguration"] == {
        "enabled": True
    }

    sfn.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "dev"}, {"key": "team", "value": "lake"}])
    sfn.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "lake"}]
    assert sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"] == []
    assert sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"] == []

    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.list_tags_for_resource(resourceArn=arn)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.list_state_machine_versions(stateMachineArn=arn)


def test_without_settings_logging_is_off_and_tracing_disabled(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="settings-default", definition=DEFINITION, roleArn=ROLE)[
        "stateMachineArn"
    ]
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    assert described["tracingConfiguration"] == {"enabled": False}
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == []
    sfn.delete_state_machine(stateMachineArn=arn)
