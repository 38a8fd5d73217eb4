#!/usr/bin/env bash
# check_python_san.sh PYTHON SAN_BUILD: the Python suite with the extension
# and the library built with AddressSanitizer and UBSan (the interpreter is
# not instrumented: libasan is preloaded). Catches what a binding bug does to
# C memory, e.g. a handle freed while another thread is inside a call
# (test_gpurent_handles). Leak checking is off: CPython keeps memory to exit.
#   make check-python-san   (not part of make check: it rebuilds the wrapper)
set -euo pipefail
python=$1 san=$2
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$top/$san/python-san
rm -rf "$dir" && mkdir -p "$dir/bindings"
cp "$top"/bindings/*.i "$dir/bindings/"
cp -r "$top/bindings/python" "$dir/bindings/python"
ln -s "$top/tests" "$dir/tests"
ln -s "$top/include" "$dir/include"
( cd "$dir/bindings/python" && rm -rf build gpurent/_capi*.so gpurent/__pycache__ tests/__pycache__ &&
  GPURENT_BUILD_DIR=$top/$san CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
  LDFLAGS="-fsanitize=address,undefined" "$python" setup.py -q build_ext --inplace --force >/dev/null )
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
cd "$dir/bindings/python"
GPURENT_TEST_BUILD=$top/build "$python" -m pytest -q -p no:cacheprovider tests
