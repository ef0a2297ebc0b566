"""cli layer: the ``derson-lake`` command line (``cli.main``), the top layer.

It offers nothing to other layers (nothing imports it but ``dersonlake.__main__``); it uses the
others only through their surfaces (``dersonlake.<layer>`` and its ``__all__``).
"""

__all__: list[str] = []
