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
    home = Path(configured).expanduser().resolve() if configured else Path.cwd().resolve() / ".derson"
    if home.exists() and not home.is_dir():
        from dersonlake.errors import BadInput

        source = f"DERSON_HOME={configured}" if configured else str(home)
        raise BadInput(
            f"{source} is not a folder",
            hint="Point DERSON_HOME at a folder (it is created if missing) or unset it",
        )
    return home
