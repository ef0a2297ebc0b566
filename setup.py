"""Builds the compiled binlog row decoder (Cython) with ``pip install``; everything else is in
pyproject.toml. The extension is optional: where no C compiler exists the install still succeeds
and the pure-Python decoder (the same source, identical results) is used, with a warning at import;
``DERSONLAKE_PURE_PYTHON=1`` selects the pure-Python decoder at run time even where it was built."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "dersonlake.sources.mysql._binlog_row_images_c",
                ["src/dersonlake/sources/mysql/_binlog_row_images_c.pyx"],
                optional=True,
            )
        ],
        compiler_directives={"language_level": "3"},
        quiet=True,
    )
)
