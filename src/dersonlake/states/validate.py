"""Definition checks that mirror what AWS rejects at CreateStateMachine.

Every problem is an ``InvalidDefinition`` whose path names the state and field, e.g.
``States.CheckStatus.Retry[0].ErrorEquals``; nested scopes extend it
(``States.Fan.Branches[1].States.Leaf.Next``). The first problem found is reported.
"""

from __future__ import annotations

import re
from typing import Any

from dersonlake.states import choice, intrinsics, paths
from dersonlake.states.definition import JSONATA, JSONPATH, InvalidDefinition
from dersonlake.states.failures import ALL, PREDEFINED

STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_COMMON = {"Type", "Comment", "QueryLanguage"}
_FLOW = {"Next", "End"}
_IO = {"InputPath", "OutputPath"}
_JSONPATH_ONLY = {
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
}
_JSONATA_ONLY = {"Arguments", "Output", "Items"}
FIELDS: dict[str, set[str]] = {
    "Task": _COMMON
    | _FLOW
    | _IO
    | {"Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "TimeoutSeconds"}
    | {"TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Assign"}
    | {"Arguments", "Output"},
    "Pass": _COMMON | _FLOW | _IO | {"Result", "ResultPath", "Parameters", "Assign", "Output"},
    "Choice": _COMMON | _IO | {"Choices", "Default", "Assign", "Output"},
    "Wait": _COMMON
    | _FLOW
    | _IO
    | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath", "Assign", "Output"},
    "Succeed": _COMMON | _IO | {"Output"},
    "Fail": _COMMON | {"Error", "Cause", "ErrorPath", "CausePath"},
    "Parallel": _COMMON
    | _FLOW
    | _IO
    | {"Branches", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Assign"}
    | {"Arguments", "Output"},
    "Map": _COMMON
    | _FLOW
    | _IO
    | {"ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "Parameters", "MaxConcurrency"}
    | {"MaxConcurrencyPath", "ResultSelector", "ResultPath", "Retry", "Catch", "Assign", "Label"}
    | {"ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailurePercentage", "ToleratedFailureCount"}
    | {"ToleratedFailurePercentagePath", "ToleratedFailureCountPath", "Items", "Output", "Arguments"},
}
MAX_NAME = 80
MAX_TIMEOUT = 99999999
_RESOURCE_PATTERNS = (
    re.compile(r"^arn:aws[a-z-]*:states:::aws-sdk:[a-z0-9]+:[A-Za-z0-9]+(\.waitForTaskToken)?$"),
    re.compile(r"^arn:aws[a-z-]*:states:::[a-z0-9-]+:[A-Za-z0-9-]+(\.sync(:2)?|\.waitForTaskToken)?$"),
    re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$"),
    re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:activity:[A-Za-z0-9_.-]{1,80}$"),
)
RESOURCE_FORMS = (
    "arn:aws:states:::<service>:<api>[.sync|.sync:2|.waitForTaskToken]",
    "arn:aws:states:::aws-sdk:<service>:<action>",
    "arn:aws:lambda:<region>:<account>:function:<name>",
    "arn:aws:states:<region>:<account>:activity:<name>",
)


def fail(problem: str, path: str, value: Any = ..., **kw: Any) -> InvalidDefinition:
    return InvalidDefinition(problem, path=path, value=value, **kw)


def validate(raw: dict[str, Any]) -> None:
    """Raise ``InvalidDefinition`` for the first problem in the definition ``raw``."""
    if not isinstance(raw, dict):
        raise fail("the definition must be a JSON object", "$", raw)
    language = raw.get("QueryLanguage", JSONPATH)
    if language not in (JSONPATH, JSONATA):
        raise fail("unknown QueryLanguage", "QueryLanguage", language, allowed=[JSONPATH, JSONATA])
    allowed_top = {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}
    for key in raw:
        if key not in allowed_top:
            raise fail("unknown top-level field", key, key, allowed=sorted(allowed_top))
    timeout = raw.get("TimeoutSeconds")
    if timeout is not None and not _int_in(timeout, 1, MAX_TIMEOUT):
        raise fail(f"must be an integer from 1 to {MAX_TIMEOUT}", "TimeoutSeconds", timeout)
    _scope(raw, "", language, top=True)
    _unique_labels(raw)


def _scope(raw: Any, prefix: str, language: str, *, top: bool = False) -> None:
    if not isinstance(raw, dict):
        raise fail("must be an object with StartAt and States", prefix.rstrip(".") or "$", raw)
    if "StartAt" not in raw:
        raise fail("is required", f"{prefix}StartAt")
    if "States" not in raw:
        raise fail("is required", f"{prefix}States")
    states = raw["States"]
    if not isinstance(states, dict) or not states:
        raise fail("must be a non-empty object of states", f"{prefix}States", states)
    if not top:
        extra = set(raw) - {"StartAt", "States", "Comment", "ProcessorConfig"}
        if "QueryLanguage" in extra:
            raise fail("a branch or processor cannot declare QueryLanguage", f"{prefix}QueryLanguage")
        if extra:
            raise fail(
                "unknown field", f"{prefix}{sorted(extra)[0]}", allowed=["StartAt", "States", "Comment"]
            )
    start = raw["StartAt"]
    if start not in states:
        raise fail("names no state in this scope", f"{prefix}StartAt", start, allowed=list(states))
    for name, body in states.items():
        _state(name, body, f"{prefix}States.{name}", language, set(states))
    _graph(raw, prefix)


def _graph(raw: dict[str, Any], prefix: str) -> None:
    """Every state reachable from StartAt; at least one terminal state."""
    states = raw["States"]
    seen: set[str] = set()
    todo = [raw["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_targets(states[name]))
    for name in states:
        if name not in seen:
            raise fail(
                f"state {name!r} is not reachable from StartAt {raw['StartAt']!r}", f"{prefix}States.{name}"
            )
    if not any(_is_terminal(body) for body in states.values()):
        raise fail(
            "no terminal state (End: true, Succeed or Fail): the machine can never finish", f"{prefix}States"
        )


def _targets(body: dict[str, Any]) -> list[str]:
    out = [body["Next"]] if "Next" in body else []
    out += [c["Next"] for c in body.get("Catch", []) if "Next" in c]
    if body.get("Type") == "Choice":
        out += [r["Next"] for r in body.get("Choices", []) if "Next" in r]
        if "Default" in body:
            out.append(body["Default"])
    return out


def _is_terminal(body: dict[str, Any]) -> bool:
    return body.get("Type") in ("Succeed", "Fail") or body.get("End") is True


def _state(name: str, body: Any, at: str, machine_language: str, names: set[str]) -> None:
    if len(name) > MAX_NAME:
        raise fail(f"state names are at most {MAX_NAME} characters", at, name)
    if not isinstance(body, dict):
        raise fail("a state must be an object", at, body)
    kind = body.get("Type")
    if kind is None:
        raise fail("is required", f"{at}.Type")
    if kind not in STATE_TYPES:
        raise fail("unknown state type", f"{at}.Type", kind, allowed=STATE_TYPES)
    language = body.get("QueryLanguage", machine_language)
    if language not in (JSONPATH, JSONATA):
        raise fail("unknown QueryLanguage", f"{at}.QueryLanguage", language, allowed=[JSONPATH, JSONATA])
    if machine_language == JSONATA and language == JSONPATH:
        raise fail("a JSONata state machine cannot contain a JSONPath state", f"{at}.QueryLanguage", language)
    for key in body:
        if key not in FIELDS[kind]:
            raise fail(f"is not a field of a {kind} state", f"{at}.{key}", allowed=sorted(FIELDS[kind]))
        if language == JSONATA and key in _JSONPATH_ONLY:
            raise fail("is a JSONPath field; a JSONata state uses Arguments/Output instead", f"{at}.{key}")
        if language == JSONPATH and key in _JSONATA_ONLY:
            raise fail("is a JSONata field; set QueryLanguage to JSONata to use it", f"{at}.{key}")
    _flow(kind, body, at, names)
    if language == JSONATA:
        from dersonlake.states.jsonata_mode import validate_state

        validate_state(kind, body, at)
    else:
        _jsonpath_fields(kind, body, at)
    if kind == "Task":
        _task(body, at, language)
    elif kind == "Choice":
        _choice(body, at, names, language)
    elif kind == "Wait":
        _wait(body, at, language)
    elif kind == "Fail":
        _fail_state(body, at, language)
    elif kind == "Parallel":
        branches = body.get("Branches")
        if not isinstance(branches, list) or not branches:
            raise fail("must be a non-empty list of {StartAt, States}", f"{at}.Branches", branches)
        for i, branch in enumerate(branches):
            _scope(branch, f"{at}.Branches[{i}].", machine_language)
    elif kind == "Map":
        _map(body, at, machine_language, language)
    if kind in ("Task", "Parallel", "Map"):
        _retry(body.get("Retry", []), f"{at}.Retry")
        _catch(body.get("Catch", []), f"{at}.Catch", names, language)


def _flow(kind: str, body: dict[str, Any], at: str, names: set[str]) -> None:
    if kind in ("Choice", "Succeed", "Fail"):
        return
    has_next, has_end = "Next" in body, "End" in body
    if has_next == has_end:
        raise fail("a state needs exactly one of Next or End: true", at)
    if has_end and body["End"] is not True:
        raise fail("End must be true (or use Next)", f"{at}.End", body["End"])
    if has_next and body["Next"] not in names:
        raise fail("names no state in this scope", f"{at}.Next", body["Next"], allowed=sorted(names))


def _int_in(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def check_path_field(
    body: dict[str, Any], key: str, at: str, *, nullable: bool = True, reference: bool = False
) -> None:
    if key not in body:
        return
    value = body[key]
    if value is None and nullable:
        return
    problem = paths.check_path(value)
    if problem:
        raise fail(problem, f"{at}.{key}", value)
    if reference and not paths.is_reference_path(value):
        raise fail("must be a reference path (only names and indexes, like $.a.b[0])", f"{at}.{key}", value)


def check_template(value: Any, at: str) -> None:
    """A payload template: ``.$`` keys hold paths or intrinsic calls; other keys recurse."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if key.endswith(".$"):
                if not isinstance(sub, str):
                    raise fail(
                        "a key ending in '.$' must have a string path or intrinsic value", f"{at}.{key}", sub
                    )
                check_dynamic(sub, f"{at}.{key}")
            else:
                check_template(sub, f"{at}.{key}")
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            check_template(sub, f"{at}[{i}]")


def check_dynamic(text: str, at: str) -> None:
    """A ``.$`` value: a path (``$``, ``$$``, ``$var``) or an intrinsic function call."""
    if intrinsics.looks_like_call(text):
        try:
            intrinsics.parse(text)
        except intrinsics.IntrinsicSyntax as exc:
            raise fail(f"invalid intrinsic function: {exc}", at, text) from None
        return
    problem = paths.check_path(text)
    if problem:
        raise fail(f"must be a path or an intrinsic function: {problem}", at, text)


def _jsonpath_fields(kind: str, body: dict[str, Any], at: str) -> None:
    for key in ("InputPath", "OutputPath", "ItemsPath"):
        check_path_field(body, key, at)
    check_path_field(body, "ResultPath", at, reference=True)
    for key in ("Parameters", "ResultSelector", "ItemSelector"):
        if key in body:
            if key == "ResultSelector" and not isinstance(body[key], dict):
                raise fail("must be an object", f"{at}.{key}", body[key])
            check_template(body[key], f"{at}.{key}")
    if "Assign" in body:
        if not isinstance(body["Assign"], dict):
            raise fail("must be an object of variable names", f"{at}.Assign", body["Assign"])
        check_template(body["Assign"], f"{at}.Assign")


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
MAX_LABEL = 40
# The characters AWS refuses in a Map Label: space, ? * < > { } [ ] : ; , \\ | ^ ~ $ # % & ` " and the
# control characters U+0000-001F and U+007F-009F.
_BAD_LABEL_CHAR = re.compile(r'[ ?*<>{}\[\]:;,\\|^~$#%&`"\x00-\x1f\x7f-\x9f]')


def _task(body: dict[str, Any], at: str, language: str = JSONPATH) -> None:
    resource = body.get("Resource")
    if not isinstance(resource, str):
        raise fail("is required and must be an ARN string", f"{at}.Resource", resource)
    if not any(p.match(resource) for p in _RESOURCE_PATTERNS):
        raise fail(
            "is not a valid resource ARN",
            f"{at}.Resource",
            resource,
            hint="Forms: " + "; ".join(RESOURCE_FORMS),
        )
    for key in ("TimeoutSeconds", "HeartbeatSeconds"):
        if key in body and key + "Path" in body:
            raise fail(f"use only one of {key} and {key}Path", f"{at}.{key}Path")
        if key in body and not isinstance(body[key], str) and not _int_in(body[key], 1, MAX_TIMEOUT):
            raise fail(f"must be a positive integer up to {MAX_TIMEOUT}", f"{at}.{key}", body[key])
        check_path_field(body, key + "Path", at, nullable=False)
    t, h = body.get("TimeoutSeconds"), body.get("HeartbeatSeconds")
    if isinstance(t, int) and isinstance(h, int) and h >= t:
        raise fail("must be smaller than TimeoutSeconds", f"{at}.HeartbeatSeconds", h)
    if "Credentials" in body:
        _credentials(body["Credentials"], f"{at}.Credentials", language)


def _credentials(value: Any, at: str, language: str) -> None:
    """``Credentials`` (cross-account tasks): an object with exactly one ``RoleArn`` (or, in JSONPath,
    ``RoleArn.$``) naming an IAM role ARN, a path, or a JSONata expression."""
    if not isinstance(value, dict):
        raise fail("must be an object with RoleArn", at, value)
    keys = ("RoleArn", "RoleArn.$") if language == JSONPATH else ("RoleArn",)
    for key in value:
        if key not in keys:
            raise fail("is not a field of Credentials", f"{at}.{key}", allowed=list(keys))
    present = [k for k in keys if k in value]
    if len(present) != 1:
        raise fail("Credentials needs exactly one of " + " or ".join(keys), f"{at}.RoleArn")
    key = present[0]
    role = value[key]
    if not isinstance(role, str) or not role:
        raise fail("must be a non-empty string", f"{at}.{key}", role)
    if key == "RoleArn.$":
        check_dynamic(role, f"{at}.{key}")
        return
    if language == JSONATA and role.startswith("{%"):
        return
    if not _ROLE_ARN.match(role):
        raise fail("must be an IAM role ARN like arn:aws:iam::123456789012:role/name", f"{at}.{key}", role)


def _retry(retriers: Any, at: str) -> None:
    if not isinstance(retriers, list):
        raise fail("must be a list of retriers", at, retriers)
    for i, r in enumerate(retriers):
        here = f"{at}[{i}]"
        if not isinstance(r, dict):
            raise fail("a retrier must be an object", here, r)
        allowed = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds"}
        allowed |= {"JitterStrategy", "Comment"}
        for key in r:
            if key not in allowed:
                raise fail("is not a retrier field", f"{here}.{key}", allowed=sorted(allowed))
        _error_equals(r, here, last=i == len(retriers) - 1)
        if "IntervalSeconds" in r and not _int_in(r["IntervalSeconds"], 1, MAX_TIMEOUT):
            raise fail(
                f"must be an integer from 1 to {MAX_TIMEOUT}", f"{here}.IntervalSeconds", r["IntervalSeconds"]
            )
        if "MaxAttempts" in r and not _int_in(r["MaxAttempts"], 0, MAX_TIMEOUT):
            raise fail(f"must be an integer from 0 to {MAX_TIMEOUT}", f"{here}.MaxAttempts", r["MaxAttempts"])
        if "BackoffRate" in r and not (_number(r["BackoffRate"]) and r["BackoffRate"] >= 1.0):
            raise fail("must be a number >= 1.0", f"{here}.BackoffRate", r["BackoffRate"])
        if "MaxDelaySeconds" in r and not _int_in(r["MaxDelaySeconds"], 1, 31622401):
            raise fail(
                "must be an integer from 1 to 31622401", f"{here}.MaxDelaySeconds", r["MaxDelaySeconds"]
            )
        if r.get("JitterStrategy", "NONE") not in ("FULL", "NONE"):
            raise fail(
                "unknown jitter strategy",
                f"{here}.JitterStrategy",
                r["JitterStrategy"],
                allowed=["FULL", "NONE"],
            )


def _catch(catchers: Any, at: str, names: set[str], language: str) -> None:
    if not isinstance(catchers, list):
        raise fail("must be a list of catchers", at, catchers)
    for i, c in enumerate(catchers):
        here = f"{at}[{i}]"
        if not isinstance(c, dict):
            raise fail("a catcher must be an object", here, c)
        allowed = {"ErrorEquals", "Next", "Comment", "Assign"}
        allowed |= {"Output"} if language == JSONATA else {"ResultPath"}
        for key in c:
            if key not in allowed:
                raise fail("is not a catcher field", f"{here}.{key}", allowed=sorted(allowed))
        _error_equals(c, here, last=i == len(catchers) - 1)
        if "Next" not in c:
            raise fail("is required", f"{here}.Next")
        if c["Next"] not in names:
            raise fail("names no state in this scope", f"{here}.Next", c["Next"], allowed=sorted(names))
        check_path_field(c, "ResultPath", here, reference=True)


def _error_equals(r: dict[str, Any], here: str, *, last: bool) -> None:
    errors = r.get("ErrorEquals")
    if not isinstance(errors, list) or not errors or not all(isinstance(e, str) for e in errors):
        raise fail("is required: a non-empty list of error names", f"{here}.ErrorEquals", errors)
    if ALL in errors:
        if len(errors) != 1:
            raise fail("States.ALL must appear alone in ErrorEquals", f"{here}.ErrorEquals", errors)
        if not last:
            raise fail(
                "the retrier or catcher with States.ALL must be the last one", f"{here}.ErrorEquals", errors
            )
    for e in errors:
        if e.startswith("States.") and e not in PREDEFINED:
            raise fail(
                "is not a predefined error; names starting with 'States.' are reserved",
                f"{here}.ErrorEquals",
                e,
                allowed=sorted(PREDEFINED),
            )


def _choice(body: dict[str, Any], at: str, names: set[str], language: str) -> None:
    rules = body.get("Choices")
    if not isinstance(rules, list) or not rules:
        raise fail("must be a non-empty list of choice rules", f"{at}.Choices", rules)
    if "Default" in body and body["Default"] not in names:
        raise fail("names no state in this scope", f"{at}.Default", body["Default"], allowed=sorted(names))
    for i, rule in enumerate(rules):
        here = f"{at}.Choices[{i}]"
        if not isinstance(rule, dict):
            raise fail("a choice rule must be an object", here, rule)
        if "Next" not in rule:
            raise fail("is required on a top-level choice rule", f"{here}.Next")
        if rule["Next"] not in names:
            raise fail("names no state in this scope", f"{here}.Next", rule["Next"], allowed=sorted(names))
        if language == JSONATA:
            from dersonlake.states.jsonata_mode import validate_condition

            validate_condition(rule, here)
        else:
            _rule(rule, here, top=True)


def _rule(rule: Any, here: str, *, top: bool) -> None:
    if not isinstance(rule, dict):
        raise fail("a choice rule must be an object", here, rule)
    if not top and "Next" in rule:
        raise fail("rules nested in And/Or/Not must not have Next", f"{here}.Next")
    extra_ok = {"Next", "Comment", "Assign"} if top else {"Comment"}
    combinators = [k for k in rule if k in choice.COMBINATORS]
    ops = [k for k in rule if k in choice.OPERATORS]
    if len(combinators) + len(ops) != 1:
        raise fail(
            "a choice rule needs exactly one comparison (with Variable) or one of And/Or/Not",
            here,
            sorted(combinators + ops) or None,
        )
    if combinators:
        key = combinators[0]
        for k in rule:
            if k not in extra_ok and k != key:
                raise fail("is not allowed next to " + key, f"{here}.{k}")
        if key == "Not":
            _rule(rule["Not"], f"{here}.Not", top=False)
        else:
            subs = rule[key]
            if not isinstance(subs, list) or not subs:
                raise fail("must be a non-empty list of rules", f"{here}.{key}", subs)
            for j, sub in enumerate(subs):
                _rule(sub, f"{here}.{key}[{j}]", top=False)
        return
    op = ops[0]
    for k in rule:
        if k not in extra_ok and k not in (op, "Variable"):
            raise fail("is not a choice-rule field", f"{here}.{k}", allowed=sorted(choice.OPERATORS))
    if "Variable" not in rule:
        raise fail("is required next to " + op, f"{here}.Variable")
    problem = paths.check_path(rule["Variable"])
    if problem:
        raise fail(problem, f"{here}.Variable", rule["Variable"])
    value = rule[op]
    ok: bool
    if op.endswith("Path"):
        ok = paths.check_path(value) is None
        want = "a path"
    elif op in choice.TYPE_TESTS or op == "BooleanEquals":
        ok, want = isinstance(value, bool), "true or false"
    elif op.startswith("String"):
        ok, want = isinstance(value, str), "a string"
    elif op.startswith("Numeric"):
        ok, want = _number(value), "a number"
    else:  # Timestamp*
        ok, want = (
            choice.parse_timestamp(value) is not None,
            "an RFC 3339 timestamp like 2026-01-01T00:00:00Z",
        )
    if not ok:
        raise fail(f"{op} needs {want}", f"{here}.{op}", value)


def _wait(body: dict[str, Any], at: str, language: str) -> None:
    forms = [k for k in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath") if k in body]
    if len(forms) != 1:
        raise fail(
            "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath",
            at,
            forms or None,
        )
    key = forms[0]
    value = body[key]
    if language == JSONATA and isinstance(value, str) and value.startswith("{%"):
        return
    if key == "Seconds" and not _int_in(value, 0, MAX_TIMEOUT):
        raise fail("must be a non-negative integer", f"{at}.Seconds", value)
    if key == "Timestamp" and choice.parse_timestamp(value) is None:
        raise fail("must be an RFC 3339 timestamp like 2026-01-01T00:00:00Z", f"{at}.Timestamp", value)
    if key.endswith("Path"):
        check_path_field(body, key, at, nullable=False)


def _fail_state(body: dict[str, Any], at: str, language: str) -> None:
    for key in ("Error", "Cause"):
        if key in body and key + "Path" in body:
            raise fail(f"use only one of {key} and {key}Path", f"{at}.{key}Path")
        if key in body and not isinstance(body[key], str):
            raise fail("must be a string", f"{at}.{key}", body[key])
        if key + "Path" in body:
            if not isinstance(body[key + "Path"], str):
                raise fail("must be a path or intrinsic string", f"{at}.{key}Path", body[key + "Path"])
            check_dynamic(body[key + "Path"], f"{at}.{key}Path")


def _map(body: dict[str, Any], at: str, machine_language: str, language: str) -> None:
    if "ItemProcessor" in body and "Iterator" in body:
        raise fail("use ItemProcessor or the deprecated Iterator, not both", f"{at}.Iterator")
    key = "ItemProcessor" if "ItemProcessor" in body else "Iterator"
    proc = body.get(key)
    if proc is None:
        raise fail("is required", f"{at}.ItemProcessor")
    if "ItemSelector" in body and "Parameters" in body:
        raise fail("use ItemSelector or the deprecated Parameters, not both", f"{at}.Parameters")
    if isinstance(proc, dict) and "ProcessorConfig" in proc:
        cfg = proc["ProcessorConfig"]
        mode = cfg.get("Mode", "INLINE") if isinstance(cfg, dict) else cfg
        if mode not in ("INLINE", "DISTRIBUTED"):
            raise fail(
                "unknown Map mode",
                f"{at}.{key}.ProcessorConfig.Mode",
                mode,
                allowed=["INLINE", "DISTRIBUTED"],
            )
    for unsupported in ("ItemReader", "ItemBatcher", "ResultWriter"):
        if unsupported in body:
            raise fail(
                "is a Distributed Map feature the local engine does not run yet",
                f"{at}.{unsupported}",
                hint="Pass the items in the state input and use ItemsPath instead",
            )
    if "Label" in body:
        _label(body["Label"], f"{at}.Label")
    mc = body.get("MaxConcurrency")
    if (
        mc is not None
        and not (isinstance(mc, str) and language == JSONATA)
        and not _int_in(mc, 0, MAX_TIMEOUT)
    ):
        raise fail("must be a non-negative integer (0 = no limit)", f"{at}.MaxConcurrency", mc)
    pct = body.get("ToleratedFailurePercentage")
    pct_dynamic = isinstance(pct, str) and language == JSONATA
    if pct is not None and not pct_dynamic and not (_number(pct) and 0 <= pct <= 100):
        raise fail("must be a number from 0 to 100", f"{at}.ToleratedFailurePercentage", pct)
    cnt = body.get("ToleratedFailureCount")
    if (
        cnt is not None
        and not (isinstance(cnt, str) and language == JSONATA)
        and not _int_in(cnt, 0, MAX_TIMEOUT)
    ):
        raise fail("must be a non-negative integer", f"{at}.ToleratedFailureCount", cnt)
    for k in ("MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath"):
        check_path_field(body, k, at, nullable=False)
    _scope(proc, f"{at}.{key}.", machine_language)


def _label(label: Any, at: str) -> None:
    """A Map ``Label`` names the Map Run: at most 40 characters, none that names forbid."""
    if not isinstance(label, str):
        raise fail("must be a string", at, label)
    if not label:
        raise fail("must not be empty", at, label)
    if len(label) > MAX_LABEL:
        raise fail(f"must be at most {MAX_LABEL} characters long", at, label)
    bad = _BAD_LABEL_CHAR.search(label)
    if bad:
        raise fail(
            f"contains a forbidden character {bad.group()!r}: no spaces, brackets, wildcards, "
            '" # % \\ ^ | ~ ` $ & , ; : or control characters',
            at,
            label,
        )


def _unique_labels(raw: dict[str, Any]) -> None:
    """Map labels are unique within the whole state machine (nested scopes included)."""
    seen: set[str] = set()

    def walk(scope: Any, prefix: str) -> None:
        for name, body in (scope.get("States") or {}).items():
            at = f"{prefix}States.{name}"
            if not isinstance(body, dict):
                continue
            label = body.get("Label")
            if body.get("Type") == "Map" and isinstance(label, str):
                if label in seen:
                    raise fail("Map labels must be unique within the state machine", f"{at}.Label", label)
                seen.add(label)
            for i, branch in enumerate(body.get("Branches") or []):
                if isinstance(branch, dict):
                    walk(branch, f"{at}.Branches[{i}].")
            for key in ("ItemProcessor", "Iterator"):
                if isinstance(body.get(key), dict):
                    walk(body[key], f"{at}.{key}.")

    walk(raw, "")


# Service integration patterns an EXPRESS state machine cannot run (AWS rejects them at create time).
_EXPRESS_PATTERNS = (".sync", ".waitForTaskToken")


def check_express(raw: dict[str, Any]) -> None:
    """The extra rules of an EXPRESS state machine: no ``.sync``/``.waitForTaskToken`` integrations,
    no activities, no Distributed Map."""

    def walk(scope: Any, prefix: str) -> None:
        for name, body in (scope.get("States") or {}).items():
            at = f"{prefix}States.{name}"
            if not isinstance(body, dict):
                continue
            resource = body.get("Resource")
            if body.get("Type") == "Task" and isinstance(resource, str):
                for pattern in _EXPRESS_PATTERNS:
                    if pattern in resource.rsplit(":::", 1)[-1]:
                        raise fail(
                            f"Express state machine does not support '{pattern}' service integration",
                            f"{at}.Resource",
                            resource,
                        )
                if ":activity:" in resource:
                    raise fail(
                        "Express state machine does not support Activities", f"{at}.Resource", resource
                    )
            for i, branch in enumerate(body.get("Branches") or []):
                if isinstance(branch, dict):
                    walk(branch, f"{at}.Branches[{i}].")
            for key in ("ItemProcessor", "Iterator"):
                proc = body.get(key)
                if isinstance(proc, dict):
                    cfg = proc.get("ProcessorConfig")
                    if isinstance(cfg, dict) and cfg.get("Mode") == "DISTRIBUTED":
                        raise fail(
                            "Express state machine does not support Distributed Map",
                            f"{at}.{key}.ProcessorConfig.Mode",
                        )
                    walk(proc, f"{at}.{key}.")

    walk(raw, "")
