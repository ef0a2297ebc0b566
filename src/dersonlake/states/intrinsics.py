"""Intrinsic functions (``States.Format(...)`` and friends), parsed by hand.

Arguments are single-quoted strings (escapes ``\\'``, ``\\{``, ``\\}``, ``\\\\``), numbers, booleans,
``null``, paths (``$.x``, ``$$.y``, ``$var``) and nested calls, up to 10 levels deep
(asl.md §1.4). Parsing happens at definition time so a typo fails CreateStateMachine, as on AWS;
any failure while evaluating is ``States.IntrinsicFailure``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dersonlake.states import paths
from dersonlake.states.failures import INTRINSIC_FAILURE, StatesFailure

MAX_DEPTH = 10


class IntrinsicSyntax(Exception):
    """The text is not a well-formed intrinsic call."""


@dataclass(frozen=True)
class Literal:
    value: Any
    raw: str | None = None  # the undecoded text of a string literal (Format needs the escapes)


@dataclass(frozen=True)
class PathArg:
    text: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Literal | PathArg | Call, ...]


def looks_like_call(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("States.")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def fail(self, problem: str) -> IntrinsicSyntax:
        return IntrinsicSyntax(f"{problem} at position {self.i} of {self.text!r}")

    def skip_ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\n\r":
            self.i += 1

    def call(self, depth: int) -> Call:
        if depth > MAX_DEPTH:
            raise self.fail(f"intrinsic functions nest at most {MAX_DEPTH} levels")
        start = self.i
        while self.i < len(self.text) and (self.text[self.i].isalnum() or self.text[self.i] == "."):
            self.i += 1
        name = self.text[start : self.i]
        if name not in FUNCTIONS:
            raise IntrinsicSyntax(
                f"unknown intrinsic function {name!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
            )
        self.skip_ws()
        if self.i >= len(self.text) or self.text[self.i] != "(":
            raise self.fail("expected '('")
        self.i += 1
        args: list[Literal | PathArg | Call] = []
        self.skip_ws()
        if self.i < len(self.text) and self.text[self.i] == ")":
            self.i += 1
        else:
            while True:
                self.skip_ws()
                args.append(self.arg(depth))
                self.skip_ws()
                if self.i >= len(self.text):
                    raise self.fail("missing ')'")
                if self.text[self.i] == ",":
                    self.i += 1
                    continue
                if self.text[self.i] == ")":
                    self.i += 1
                    break
                raise self.fail(f"unexpected {self.text[self.i]!r}")
        lo, hi = FUNCTIONS[name][1]
        if not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}" if hi < 99 else f"at least {lo}"
            raise IntrinsicSyntax(f"{name} takes {want} argument(s), got {len(args)} in {self.text!r}")
        return Call(name, tuple(args))

    def arg(self, depth: int) -> Literal | PathArg | Call:
        t, i = self.text, self.i
        if i >= len(t):
            raise self.fail("missing argument")
        ch = t[i]
        if ch == "'":
            return self.string()
        if ch == "$":
            return self.path()
        if t.startswith("States.", i):
            return self.call(depth + 1)
        start = i
        while self.i < len(t) and t[self.i] not in ",) \t\n":
            self.i += 1
        word = t[start : self.i]
        if word in ("true", "false", "null"):
            return Literal({"true": True, "false": False, "null": None}[word])
        try:
            return Literal(json.loads(word))
        except ValueError:
            self.i = start
            raise self.fail(f"invalid argument {word!r}") from None

    def string(self) -> Literal:
        t = self.text
        self.i += 1
        start = self.i
        out: list[str] = []
        while self.i < len(t):
            ch = t[self.i]
            if ch == "\\" and self.i + 1 < len(t):
                out.append(t[self.i + 1])
                self.i += 2
                continue
            if ch == "'":
                raw = t[start : self.i]
                self.i += 1
                return Literal("".join(out), raw)
            out.append(ch)
            self.i += 1
        raise self.fail("unterminated string")

    def path(self) -> PathArg:
        t = self.text
        start = self.i
        depth = 0
        quote = ""
        while self.i < len(t):
            ch = t[self.i]
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "'\"" and depth:
                quote = ch
            elif ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
            elif depth == 0 and ch in ",) \t\n":
                break
            self.i += 1
        text = t[start : self.i]
        problem = paths.check_path(text)
        if problem:
            raise IntrinsicSyntax(problem)
        return PathArg(text)


@lru_cache(maxsize=2048)
def parse(text: str) -> Call:
    """Parse a whole intrinsic expression; raises IntrinsicSyntax."""
    p = _Parser(text.strip())
    call = p.call(1)
    p.skip_ws()
    if p.i != len(p.text):
        raise p.fail("unexpected text after the call")
    return call


def evaluate(
    text: str,
    data: Any,
    context: Any = None,
    variables: dict[str, Any] | None = None,
    rng: random.Random | None = None,
) -> Any:
    """Evaluate an intrinsic expression; any problem is ``States.IntrinsicFailure``."""
    try:
        call = parse(text)
    except IntrinsicSyntax as exc:
        raise StatesFailure(INTRINSIC_FAILURE, str(exc)) from None
    return _eval(call, data, context, variables, rng or random.Random())


def _eval(node: Any, data: Any, context: Any, variables: Any, rng: random.Random) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, PathArg):
        try:
            return paths.resolve(node.text, data, context, variables)
        except paths.PathMissing as exc:
            raise StatesFailure(INTRINSIC_FAILURE, str(exc)) from None
    args = [_eval(a, data, context, variables, rng) for a in node.args]
    fn = FUNCTIONS[node.name][0]
    try:
        if node.name == "States.Format":
            first = node.args[0]
            template = first.raw if isinstance(first, Literal) and first.raw is not None else args[0]
            return _format(template, args[1:], escaped=isinstance(first, Literal))
        if node.name == "States.MathRandom":
            return _math_random(rng, *args)
        return fn(*args)
    except StatesFailure:
        raise
    except Exception as exc:
        raise StatesFailure(INTRINSIC_FAILURE, f"{node.name}: {exc}") from None


def _need(cond: bool, problem: str) -> None:
    if not cond:
        raise ValueError(problem)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _format(template: Any, args: list[Any], *, escaped: bool) -> str:
    _need(isinstance(template, str), "the template must be a string")
    out: list[str] = []
    used = 0
    i = 0
    while i < len(template):
        ch = template[i]
        if escaped and ch == "\\" and i + 1 < len(template):
            out.append(template[i + 1])
            i += 2
            continue
        if template.startswith("{}", i):
            _need(used < len(args), "more '{}' placeholders than arguments")
            out.append(_as_text(args[used]))
            used += 1
            i += 2
            continue
        out.append(ch)
        i += 1
    _need(used == len(args), f"{len(args)} arguments for {used} placeholders")
    return "".join(out)


def _string_to_json(s: Any) -> Any:
    _need(isinstance(s, str), "argument must be a string")
    return json.loads(s)


def _json_to_string(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())


def _array_partition(arr: Any, size: Any) -> list[list[Any]]:
    _need(isinstance(arr, list), "the first argument must be an array")
    _need(_is_int(size) and size > 0, "the chunk size must be a positive integer")
    n = int(size)
    return [arr[i : i + n] for i in range(0, len(arr), n)]


def _array_contains(arr: Any, value: Any) -> bool:
    _need(isinstance(arr, list), "the first argument must be an array")
    return any(_json_equal(x, value) for x in arr)


def _json_equal(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _java_round(x: Any) -> int:
    """AWS rounds a non-integer argument to the nearest integer, halves up (Java's Math.round)."""
    return int(x) if isinstance(x, int) else math.floor(x + 0.5)


def _array_range(start: Any, end: Any, step: Any) -> list[int]:
    _need(all(_number(x) for x in (start, end, step)), "start, end and step must be numbers")
    s, e, st = _java_round(start), _java_round(end), _java_round(step)
    _need(st != 0, "step must not be 0")
    out = list(range(s, e + (1 if st > 0 else -1), st))
    _need(len(out) <= 1000, f"the range has {len(out)} items; at most 1000 are allowed")
    return out


def _array_get_item(arr: Any, index: Any) -> Any:
    _need(isinstance(arr, list), "the first argument must be an array")
    _need(_is_int(index) and 0 <= index < len(arr), f"index {index!r} out of range")
    return arr[int(index)]


def _array_length(arr: Any) -> int:
    _need(isinstance(arr, list), "the argument must be an array")
    return len(arr)


def _array_unique(arr: Any) -> list[Any]:
    _need(isinstance(arr, list), "the argument must be an array")
    seen: set[str] = set()
    out = []
    for x in arr:
        key = json.dumps(x, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out


def _b64_encode(s: Any) -> str:
    _need(isinstance(s, str) and len(s) <= 10000, "the argument must be a string of at most 10000 characters")
    return base64.b64encode(s.encode()).decode()


def _b64_decode(s: Any) -> str:
    _need(isinstance(s, str) and len(s) <= 10000, "the argument must be a string of at most 10000 characters")
    return base64.b64decode(s.encode(), validate=True).decode()


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(s: Any, algorithm: Any) -> str:
    _need(isinstance(s, str) and len(s) <= 10000, "the data must be a string of at most 10000 characters")
    _need(algorithm in _HASHES, f"algorithm must be one of {', '.join(_HASHES)}")
    return hashlib.new(_HASHES[algorithm], s.encode()).hexdigest()


def _json_merge(a: Any, b: Any, deep: Any) -> dict[str, Any]:
    _need(isinstance(a, dict) and isinstance(b, dict), "both arguments must be objects")
    _need(deep is False, "only a shallow merge (false) is supported")
    return {**a, **b}


def _math_random(rng: random.Random, start: Any, end: Any, seed: Any = None) -> int:
    _need(_number(start) and _number(end), "start and end must be numbers")
    lo, hi = _java_round(start), _java_round(end)
    _need(lo < hi, "start must be smaller than end")
    _need(seed is None or _number(seed), "the seed must be a number")
    r = random.Random(_java_round(seed)) if seed is not None else rng
    return r.randrange(lo, hi)


def _math_add(a: Any, b: Any) -> int:
    """The sum; AWS rounds a non-integer argument to the nearest integer first."""
    _need(_number(a) and _number(b), "both arguments must be numbers")
    return _java_round(a) + _java_round(b)


def _string_split(s: Any, delims: Any) -> list[str]:
    _need(isinstance(s, str) and isinstance(delims, str), "both arguments must be strings")
    parts, cur = [], []
    for ch in s:
        if ch in delims:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p]


# name -> (function, (min args, max args)); Format and MathRandom are special-cased in _eval.
FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[int, int]]] = {
    "States.Format": (_format, (1, 999)),
    "States.StringToJson": (_string_to_json, (1, 1)),
    "States.JsonToString": (_json_to_string, (1, 1)),
    "States.Array": (lambda *a: list(a), (0, 999)),
    "States.ArrayPartition": (_array_partition, (2, 2)),
    "States.ArrayContains": (_array_contains, (2, 2)),
    "States.ArrayRange": (_array_range, (3, 3)),
    "States.ArrayGetItem": (_array_get_item, (2, 2)),
    "States.ArrayLength": (_array_length, (1, 1)),
    "States.ArrayUnique": (_array_unique, (1, 1)),
    "States.Base64Encode": (_b64_encode, (1, 1)),
    "States.Base64Decode": (_b64_decode, (1, 1)),
    "States.Hash": (_hash, (2, 2)),
    "States.JsonMerge": (_json_merge, (3, 3)),
    "States.MathRandom": (_math_random, (2, 3)),
    "States.MathAdd": (_math_add, (2, 2)),
    "States.StringSplit": (_string_split, (2, 2)),
    "States.UUID": (lambda: str(uuid.uuid4()), (0, 0)),
}
