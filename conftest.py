"""Root conftest: notebooks executed by nbval run in the smoke profile unless told otherwise.

The kernel that nbval starts inherits this process's environment, so the variables set here
size every notebook for CI and make their checks strict.
"""

import os

os.environ.setdefault("SEMINAR_PROFILE", "smoke")
os.environ.setdefault("SEMINAR_STRICT", "1")      # a missed check fails the test (as in CI)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
