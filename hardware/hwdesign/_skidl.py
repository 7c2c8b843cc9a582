"""SKiDL, imported with its process-wide side effects undone. Import it before any
``from skidl import ...`` in this package.

Importing ``skidl`` (2.x) does two things to the whole process:

- it opens ``<script>.log`` and ``<script>.erc`` in the working directory
  (undone with ``stop_log_file_output``; what it logs still goes to stderr);
- it calls ``logging.setLoggerClass(SkidlLogger)``, so every logger created afterwards
  by any library is a ``SkidlLogger``, whose ``debug()`` appends a ``str`` to the
  message. numba creates its compiler's loggers when it is first imported and logs lazy
  message objects: if that happens after skidl's import (a test run that reaches
  ``tests/hardware`` before anything compiled a kernel, with a cold numba cache), every
  compilation fails with ``TypeError: unsupported operand type(s) for +``. The default
  logger class is put back here; skidl's own loggers, made during its import, keep theirs.
"""

from __future__ import annotations

import logging

import skidl  # noqa: F401  (its import is what sets the logger class)
from skidl.logger import stop_log_file_output

stop_log_file_output()
logging.setLoggerClass(logging.Logger)
