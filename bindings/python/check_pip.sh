#!/usr/bin/env bash
# `pip install ./bindings/python` works offline (--no-build-isolation) from a
# tree with no generated files: setup.py runs SWIG before collecting modules,
# so capi.py is in the installed package, and links this build's library.
#   check_pip.sh PYTHON BUILD_DIR
set -euo pipefail
python=$1 build=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/bindings" "$tmp/src/build"
cp "$top"/bindings/*.i "$tmp/src/bindings/"
cp -r "$top/bindings/python" "$tmp/src/bindings/"
cp -r "$top/include" "$tmp/src/"
cp "$top/$build/libgpurent.a" "$tmp/src/build/"
( cd "$tmp/src/bindings/python" && rm -rf build ./*.egg-info gpurent/capi.py gpurent/capi_wrap.c gpurent/_capi*.so \
  tests/__pycache__ gpurent/__pycache__ )
"$python" -m pip install -q --no-build-isolation --no-deps --no-index --disable-pip-version-check \
  --root-user-action=ignore --target "$tmp/site" "$tmp/src/bindings/python"
for f in __init__.py __init__.pyi py.typed capi.py errors.py wire.py; do
  [ -f "$tmp/site/gpurent/$f" ] || { echo "check-pip: gpurent/$f not installed"; exit 1; }
done
cd "$tmp" && PYTHONPATH="$tmp/site" "$python" - <<'PY'
import gpurent
assert gpurent.__file__.startswith(__import__("os").getcwd()), gpurent.__file__
g = gpurent.GPU(model="pip", cc_major=9)
assert gpurent.GPU.decode(g.encode()) == g
try:
    gpurent.check_canonical(b"\xcc\x05")
except gpurent.NonCanonicalError:
    pass
print("check-pip: pip install --no-build-isolation built and installed gpurent", gpurent.version_string())
PY
