# cython: language_level=3
# The compiled row decoder: the very source of binlog_row_images.py, compiled by Cython at
# `pip install` (setup.py). One source, two builds, identical values (see that module).
include "binlog_row_images.py"
