"""pytest setup for the gpurent binding suite.

- Imports the in-place build in bindings/python (make python), not an
  installed copy.
- When run by `make check-python` (GPURENT_TEST_BUILD is set), asks the C
  wrappers to record which gpurent_ functions the suite calls, in
  $GPURENT_TEST_BUILD/bindings/coverage-python.txt; tests/check_bindings.sh
  reads it. This must happen before gpurent is imported.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

_build = os.environ.get("GPURENT_TEST_BUILD")
if _build and not os.environ.get("GPURENT_BINDINGS_COVERAGE"):
    _cov = Path(_build) / "bindings" / "coverage-python.txt"
    _cov.parent.mkdir(parents=True, exist_ok=True)
    _cov.write_text("")
    os.environ["GPURENT_BINDINGS_COVERAGE"] = str(_cov)
