"""The exceptions a user can see.

Every error that reaches the command line is one of these, so the CLI can print one clear line
(never a traceback) and pick the exit code: 2 for bad input the user must fix, 1 for an operation
that failed (source not ready, task failed). Messages name the file, the JSON path or the object,
the offending value, what is allowed, and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

_CONTROL = {c: f"\\x{c:02x}" for c in (*range(32), 127)}


class DersonError(Exception):
    """Base of all Derson Lake errors; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class OperationFailed(DersonError):
    """An operation could not complete (connection refused, task failed, server down)."""


class SourceNotReady(OperationFailed):
    """The source database is reachable but not configured for replication."""


class BadInput(DersonError):
    """Input the user must fix: a config file, a mapping, settings, a definition, a CLI argument.

    ``file`` and ``path`` locate the problem (``path`` is a JSON path such as
    ``rules[3].filters[0].filter-conditions[1].filter-operator``); ``value`` is what was found;
    ``allowed`` lists what would be accepted, and a near miss among them becomes "did you mean".
    """

    exit_code = 2

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        path: str | None = None,
        value: Any = ...,
        allowed: Iterable[str] | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.path = path
        self.value = value
        self.allowed = list(allowed) if allowed is not None else None
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        # a key or file name may hold control characters: escaped, the message stays one line
        where = ": ".join(part for part in (self.file, self.path) if part).translate(_CONTROL)
        text = f"{where}: {self.problem}" if where else self.problem
        if self.value is not ...:
            text += f" (got {self.value!r})"
        if self.allowed:
            suggestion = did_you_mean(self.value, self.allowed) if isinstance(self.value, str) else None
            if suggestion:
                text += f"; did you mean {suggestion!r}?"
            shown = ", ".join(self.allowed[:30]) + (", ..." if len(self.allowed) > 30 else "")
            text += f"; allowed: {shown}"
        if self.hint:
            text += f". {self.hint}"
        return text

    def located(self, *, file: str | None = None, prefix: str | None = None) -> BadInput:
        """The same error, placed in ``file`` and under the JSON path ``prefix``."""
        path = self.path
        if prefix:
            path = prefix if not path else (f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}")
        return BadInput(
            self.problem,
            file=file or self.file,
            path=path,
            value=self.value,
            allowed=self.allowed,
            hint=self.hint,
        )


def did_you_mean(value: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``value`` when it is a plausible typo, else None."""
    lowered = {c.lower(): c for c in choices}
    if value.lower() in lowered and lowered[value.lower()] != value:
        return lowered[value.lower()]
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None
