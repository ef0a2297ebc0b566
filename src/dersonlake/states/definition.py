"""The parsed form of a state machine: scopes of states, with retriers and catchers decoded.

``load_definition`` validates first (``validate.py``) so everything built here may assume a
well-formed definition. A *scope* is a closed sub-machine (the top level, one Parallel branch,
one Map processor); its ``id`` is stable text so stored frames can name the scope they run in.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from dersonlake.errors import BadInput

JSONPATH = "JSONPath"
JSONATA = "JSONata"


class InvalidDefinition(BadInput):
    """A definition AWS would reject at CreateStateMachine (the API error code is ``InvalidDefinition``).

    ``diagnostic`` is AWS's diagnostic code (ValidateStateMachineDefinition's ``code``, and the
    prefix of CreateStateMachine's message): ``SCHEMA_VALIDATION_FAILED`` for a definition that
    parses, ``INVALID_JSON_DESCRIPTION`` for one that is not a JSON object.
    """

    code = "InvalidDefinition"
    diagnostic = "SCHEMA_VALIDATION_FAILED"

    @property
    def location(self) -> str | None:
        """The JSON pointer AWS names (``/States/Map/Label``) for our dotted path."""
        if not self.path or self.path == "$":
            return None
        return "/" + self.path.replace(".", "/")

    def aws_message(self) -> str:
        """``CODE: problem at /pointer``, as AWS words CreateStateMachine's InvalidDefinition."""
        text = self.problem
        if self.value is not ... and self.diagnostic != "INVALID_JSON_DESCRIPTION":
            text += f" (got {self.value!r})"
        if self.hint:
            text += f". {self.hint}"
        where = f" at {self.location}" if self.location else ""
        return f"{self.diagnostic}: {text}{where}"


class InvalidJsonDefinition(InvalidDefinition):
    """The definition is not JSON, or not a JSON object (AWS: ``INVALID_JSON_DESCRIPTION``)."""

    diagnostic = "INVALID_JSON_DESCRIPTION"


@dataclass(frozen=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter: str = "NONE"

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based), before jitter."""
        d = self.interval_seconds * self.backoff_rate ** (attempt - 1)
        return min(d, self.max_delay_seconds) if self.max_delay_seconds is not None else d


@dataclass(frozen=True)
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    result_path: str | None = "$"
    output: Any = None
    assign: Any = None


@dataclass
class State:
    name: str
    type: str
    raw: dict[str, Any]
    query_language: str
    next: str | None = None
    end: bool = False
    retriers: tuple[Retrier, ...] = ()
    catchers: tuple[Catcher, ...] = ()
    branches: tuple[Scope, ...] = ()
    processor: Scope | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    @property
    def jsonata(self) -> bool:
        return self.query_language == JSONATA


@dataclass
class Scope:
    id: str
    start_at: str
    states: dict[str, State] = field(default_factory=dict)


@dataclass
class Definition:
    raw: dict[str, Any]
    text: str
    root: Scope
    scopes: dict[str, Scope]
    query_language: str
    timeout_seconds: int | None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def parse_json_definition(text: str | dict[str, Any], *, file: str | None = None) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise InvalidJsonDefinition(f"the definition is not valid JSON: {exc}", file=file) from None
    if not isinstance(raw, dict):
        raise InvalidJsonDefinition(
            "the definition must be a JSON object", file=file, value=type(raw).__name__
        )
    return raw


def load_definition(text: str | dict[str, Any], *, file: str | None = None) -> Definition:
    """Validate and build a definition from JSON text (or an already-parsed dict)."""
    from dersonlake.states.validate import validate

    raw = parse_json_definition(text, file=file)
    try:
        validate(raw)
    except InvalidDefinition as exc:
        raise exc.located(file=file) if file else exc from None
    body = text if isinstance(text, str) else json.dumps(text, separators=(",", ":"))
    language = raw.get("QueryLanguage", JSONPATH)
    scopes: dict[str, Scope] = {}
    root = _build_scope("", raw, language, scopes)
    return Definition(raw, body, root, scopes, language, raw.get("TimeoutSeconds"))


def _build_scope(scope_id: str, raw: dict[str, Any], language: str, scopes: dict[str, Scope]) -> Scope:
    scope = Scope(scope_id, raw["StartAt"])
    scopes[scope_id] = scope
    for name, body in raw["States"].items():
        lang = body.get("QueryLanguage", language)
        state = State(
            name=name,
            type=body["Type"],
            raw=body,
            query_language=lang,
            next=body.get("Next"),
            end=bool(body.get("End", False)),
            retriers=tuple(_retrier(r) for r in body.get("Retry", ())),
            catchers=tuple(_catcher(c) for c in body.get("Catch", ())),
        )
        prefix = f"{scope_id}/{name}" if scope_id else name
        if state.type == "Parallel":
            state.branches = tuple(
                _build_scope(f"{prefix}#{i}", b, language, scopes) for i, b in enumerate(body["Branches"])
            )
        elif state.type == "Map":
            proc = body.get("ItemProcessor") or body.get("Iterator")
            state.processor = _build_scope(f"{prefix}#p", proc, language, scopes)
        scope.states[name] = state
    return scope


def _retrier(raw: dict[str, Any]) -> Retrier:
    return Retrier(
        error_equals=tuple(raw["ErrorEquals"]),
        interval_seconds=raw.get("IntervalSeconds", 1),
        max_attempts=raw.get("MaxAttempts", 3),
        backoff_rate=raw.get("BackoffRate", 2.0),
        max_delay_seconds=raw.get("MaxDelaySeconds"),
        jitter=raw.get("JitterStrategy", "NONE"),
    )


def _catcher(raw: dict[str, Any]) -> Catcher:
    return Catcher(
        error_equals=tuple(raw["ErrorEquals"]),
        next=raw["Next"],
        result_path=raw.get("ResultPath", "$"),
        output=raw.get("Output"),
        assign=raw.get("Assign"),
    )
