"""DMS name patterns: ``%`` any run, ``_`` one character, ``[_]`` a literal underscore, ``[ab]`` a set,
``[a-d]`` a range (reference/dms.md §1.1).

Patterns are compiled to anchored regular expressions once; matching is case-sensitive, as DMS
documents (the source decides whether two spellings are the same table).

Where DMS requires an *exact* name (explicit selection, filters, table-settings,
define-primary-key) only ``%`` and bracket sets count as wildcards: a name such as
``order_items`` is taken literally there, because every real schema uses underscores and DMS
accepts them in exact names.
"""

from __future__ import annotations

import re
from functools import lru_cache

from dersonlake.errors import BadInput


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The anchored regex for a DMS LIKE-style pattern; a malformed ``[`` set is a BadInput."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] == "]" else i + 1)
            if end == -1:
                raise BadInput(
                    "unclosed '[' in a name pattern", value=pattern, hint="write [_] for a literal _"
                )
            out.append(_char_class(pattern[i + 1 : end], pattern))
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _char_class(body: str, pattern: str) -> str:
    if not body:
        raise BadInput("empty '[]' in a name pattern", value=pattern)
    parts: list[str] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            low, high = body[i], body[i + 2]
            if low > high:
                raise BadInput(f"bad range [{low}-{high}] in a name pattern", value=pattern)
            parts.append(f"{re.escape(low)}-{re.escape(high)}")
            i += 3
        else:
            parts.append(re.escape(body[i]))
            i += 1
    return "[" + "".join(parts) + "]"


def check_pattern(pattern: str, path: str) -> None:
    """Fail early, at ``path``, on a malformed pattern (an unclosed or reversed ``[`` set)."""
    try:
        compile_pattern(pattern)
    except BadInput as err:
        raise err.located(prefix=path) from None


def matches(pattern: str, name: str) -> bool:
    """True when ``name`` matches the DMS pattern ``pattern``."""
    return compile_pattern(pattern).fullmatch(name) is not None


def is_wildcard(pattern: str) -> bool:
    """True when ``pattern`` can match more than one name in an exact-name context (``%`` or ``[``)."""
    return "%" in pattern or "[" in pattern


def exactness(pattern: str, name: str) -> int:
    """How specifically ``pattern`` names ``name``, for "best match" choices: 2 when it is the name
    itself, 1 for single-character wildcards only, 0 when it has ``%``."""
    if pattern == name:
        return 2
    return 0 if "%" in pattern else 1
