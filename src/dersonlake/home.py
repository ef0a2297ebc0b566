"""Where local state lives: ``$DERSON_HOME`` when set, else ``.derson/`` in the working directory.

The sandbox data dir, SQLite stores and caches all go under it, so a project folder holds
everything a run leaves behind and ``rm -rf .derson`` resets it.
"""

from __future__ import annotations

import os
from pathlib import Path


def derson_home() -> Path:
    """The state folder (not created here; callers create the part they need)."""
    configured = os.environ.get("DERSON_HOME")
    return Path(configured).expanduser().resolve() if configured else Path.cwd().resolve() / ".derson"
