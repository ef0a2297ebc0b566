"""Lazy re-exports for the layers' ``__init__`` surfaces (PEP 562).

A layer's surface names everything other layers may use, but importing the surface must not load
pyarrow, pyiceberg or boto3 for a caller that needs none of them (the CLI's start-up). A name
listed in the layer's ``lazy`` map is imported from its module on first use and then kept in the
package's namespace, so the lookup happens once. A value equal to ``<package>.<name>`` re-exports
that submodule itself.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, lazy: Mapping[str, str], names: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose lazy names live in ``lazy``."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = lazy.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = importlib.import_module(module)
        value = loaded if module == f"{package}.{name}" else getattr(loaded, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
