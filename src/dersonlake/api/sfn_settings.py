"""What Step Functions keeps about a state machine beside its definition: the logging and tracing
configuration and the tags (CreateStateMachine, UpdateStateMachine, DescribeStateMachine,
TagResource, UntagResource, ListTagsForResource).

The engine runs definitions; these settings only matter to clients that manage state machines,
above all the Terraform AWS provider, which sends them on create and reads them back on every
refresh: an answer without them, or with other values than were sent, shows as drift. They are kept
in the engine's store, in a table of their own (its queries are ``states.store``'s), and described
back as AWS does: logging ``OFF`` and tracing disabled unless set.
"""

from __future__ import annotations

import json
from typing import Any

from dersonlake.api.protocol import ApiError
from dersonlake.states import Engine

Params = dict[str, Any]
DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
DEFAULT_TRACING = {"enabled": False}


class SfnSettings:
    """Logging, tracing and tags per state machine (by name: the engine resolves ARNs to names)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _name(self, arn: str) -> str:
        return self.engine.sm_row(arn)["name"]

    def _row(self, name: str) -> Any:
        return self.engine.store.machine_settings(name)

    def save(self, arn: str, p: Params) -> None:
        """Keep what a create or an update carries; members not given keep their value."""
        name = self._name(arn)
        row = self._row(name)
        logging = p.get("loggingConfiguration")
        tracing = p.get("tracingConfiguration")
        tags = {t["key"]: t.get("value", "") for t in p.get("tags", [])}
        with self.engine.store.tx() as tx:
            if row is None:
                tx.insert_machine_settings(name, _dump(logging), _dump(tracing), json.dumps(tags))
                return
            if logging is not None:
                tx.set_machine_logging(name, json.dumps(logging))
            if tracing is not None:
                tx.set_machine_tracing(name, json.dumps(tracing))

    def describe(self, described: dict[str, Any]) -> dict[str, Any]:
        row = self._row(described["name"])
        logging = json.loads(row["logging"]) if row and row["logging"] else {}
        tracing = json.loads(row["tracing"]) if row and row["tracing"] else {}
        return {
            **described,
            "loggingConfiguration": {**DEFAULT_LOGGING, **logging},
            "tracingConfiguration": {**DEFAULT_TRACING, **tracing},
        }

    def forget(self, arn: str) -> None:
        name = self._name(arn)
        with self.engine.store.tx() as tx:
            tx.delete_machine_settings(name)

    # -- tags --------------------------------------------------------------------------------------
    def _tags(self, arn: str) -> tuple[str, dict[str, str]]:
        try:
            name = self._name(arn)
        except Exception:
            raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'") from None
        row = self._row(name)
        return name, json.loads(row["tags"]) if row else {}

    def _store_tags(self, name: str, tags: dict[str, str]) -> None:
        with self.engine.store.tx() as tx:
            tx.set_machine_tags(name, json.dumps(tags))

    def tag_resource(self, p: Params) -> dict[str, Any]:
        name, tags = self._tags(p["resourceArn"])
        tags.update({t["key"]: t.get("value", "") for t in p["tags"]})
        if len(tags) > 50:
            raise ApiError("TooManyTags", "A resource can have at most 50 tags")
        self._store_tags(name, tags)
        return {}

    def untag_resource(self, p: Params) -> dict[str, Any]:
        name, tags = self._tags(p["resourceArn"])
        for key in p["tagKeys"]:
            tags.pop(key, None)
        self._store_tags(name, tags)
        return {}

    def list_tags_for_resource(self, p: Params) -> dict[str, Any]:
        _, tags = self._tags(p["resourceArn"])
        return {"tags": [{"key": k, "value": v} for k, v in sorted(tags.items())]}


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value)
