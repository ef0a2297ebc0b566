"""Builds the compiled binlog row decoder (Cython) with ``pip install``; everything else is in
pyproject.toml. Without a C compiler the install fails loudly rather than silently shipping the
slower path; ``DERSONLAKE_PURE_PYTHON=1`` selects the pure-Python decoder at run time."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "dersonlake.sources.mysql._binlog_row_images_c",
                ["src/dersonlake/sources/mysql/_binlog_row_images_c.pyx"],
            )
        ],
        compiler_directives={"language_level": "3"},
        quiet=True,
    )
)
