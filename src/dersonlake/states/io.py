"""JSONPath-mode input and output processing (asl.md §1.3).

``InputPath -> Parameters -> [work] -> ResultSelector -> ResultPath -> OutputPath``. Each step
turns a missing path into the error AWS raises there: ``States.Runtime`` for InputPath and
OutputPath and, as AWS raises it, for a ``.$`` path of a template that finds nothing
(``The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '{}'``);
``States.ResultPathMatchFailure`` when ResultPath cannot be written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from dersonlake.states import intrinsics, paths
from dersonlake.states.failures import RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesFailure
from dersonlake.states.store import dumps

_UNSET = object()


@dataclass
class Env:
    """What paths can read besides the data: the context object and the variables."""

    context: dict[str, Any]
    variables: dict[str, Any] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)


def select(raw: dict[str, Any], key: str, data: Any, env: Env) -> Any:
    """InputPath/OutputPath: default ``$``; ``null`` gives ``{}``; a missing path is States.Runtime."""
    if key not in raw:
        return data
    path = raw[key]
    if path is None:
        return {}
    try:
        return paths.resolve(path, data, env.context, env.variables)
    except paths.PathMissing:
        raise StatesFailure(
            RUNTIME, f"Invalid path '{path}' : No results for path: {paths.bracketed(path)}", located=True
        ) from None


def render(template: Any, data: Any, env: Env, *, field_name: str = "Parameters") -> Any:
    """A payload template: ``.$`` keys evaluate a path or intrinsic, other keys recurse."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = dynamic(value, data, env, field_name=field_name, key=key)
            else:
                out[key] = render(value, data, env, field_name=field_name)
        return out
    if isinstance(template, list):
        return [render(v, data, env, field_name=field_name) for v in template]
    return template


def dynamic(text: str, data: Any, env: Env, *, field_name: str = "Parameters", key: str = "") -> Any:
    """The value of one ``.$`` entry."""
    if intrinsics.looks_like_call(text):
        return intrinsics.evaluate(text, data, env.context, env.variables, env.rng)
    try:
        return paths.resolve(text, data, env.context, env.variables)
    except paths.PathMissing:
        raise StatesFailure(
            RUNTIME,
            f"The JSONPath '{text}' specified for the field '{key}' could not be found in the input"
            f" '{dumps(data)}'",
            located=True,
        ) from None


def apply_result_path(raw: dict[str, Any], state_input: Any, result: Any) -> Any:
    """ResultPath: default ``$`` (result replaces input); ``null`` keeps the input unchanged."""
    if "ResultPath" not in raw:
        return result
    path = raw["ResultPath"]
    if path is None:
        return state_input
    return write_result(state_input, path, result)


def write_result(state_input: Any, path: str, result: Any) -> Any:
    try:
        return paths.write(state_input, path, result)
    except ValueError as exc:
        raise StatesFailure(
            RESULT_PATH_MATCH_FAILURE, f"Unable to apply ResultPath '{path}': {exc}"
        ) from None


def assign(raw: dict[str, Any], result: Any, env: Env) -> dict[str, Any]:
    """The variables a JSONPath state's ``Assign`` sets; ``$`` is the state's result."""
    if "Assign" not in raw:
        return {}
    return render(raw["Assign"], result, env, field_name="Assign")
