#!/usr/bin/env bash
# check_install.sh MAKE CC [PYTHON]: installs that run, in prefixes other than the build tree.
#
# 1. A staged install (DESTDIR): every file is there, a program builds with
#    pkg-config against it, and uninstall leaves nothing.
# 2. A real install into a temporary PREFIX (make check runs this last, after
#    every suite has built the tree, as a user would run make install after
#    make check), then what was installed is used as the README says:
#    - the installed gpurent.pc names that PREFIX (it is written by each
#      install: an earlier install with another PREFIX must not leak in);
#    - PREFIX/bin/gpurent --version runs without LD_LIBRARY_PATH and loads
#      PREFIX/lib/libgpurent.so.0;
#    - a C program built through pkg-config (with the rpath the README gives)
#      runs without LD_LIBRARY_PATH and loads the installed library;
#    - Python: the package built from bindings/ against the installed library
#      (pip, pkg-config) imports from another folder with PYTHONPATH only;
#    - Go: a program built against the installed library as docs/bindings.md
#      says runs, and links PREFIX/lib, never this build tree (Go's build
#      cache holds the in-tree build of the same package).
set -euo pipefail
make=$1 cc=$2 python=${3:-python3}
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-install: $*"; exit 1; }

# ---- 1. staged install and uninstall ----
prefix=/opt/gpurent-test
$make -s install DESTDIR="$tmp/root" PREFIX=$prefix >/dev/null
root=$tmp/root$prefix
for f in bin/gpurent lib/libgpurent.so lib/libgpurent.a lib/pkgconfig/gpurent.pc include/gpurent.h; do
  [ -e "$root/$f" ] || fail "$f not installed"
done
grep -qx "prefix=$prefix" "$root/lib/pkgconfig/gpurent.pc" || fail "staged .pc does not name $prefix"
# The .pc names the final prefix; point pkg-config at the staged copy.
sed "s|^prefix=.*|prefix=$root|; s|^libdir=.*|libdir=$root/lib|; s|^includedir=.*|includedir=$root/include|" \
  "$root/lib/pkgconfig/gpurent.pc" > "$tmp/gpurent.pc"
grep -q '^Requires.private: libsodium msgpack' "$tmp/gpurent.pc" || fail "Requires.private wrong"
cat > "$tmp/prog.c" <<'C'
#include <gpurent.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    if (gpurent_init() != GPURENT_OK) return 1;
    if (gpurent_version_number() != GPURENT_VERSION_NUMBER) return 2;
    gpurent_request q; gpurent_request_init(&q);
    strcpy(q.request_id, "install-test");
    gpurent_buf b = {0};
    if (gpurent_request_encode(&q, &b) != GPURENT_OK) return 3;
    gpurent_request back;
    int rc = gpurent_request_decode(b.data, b.len, &back);
    gpurent_buf_free(&b);
    if (rc != GPURENT_OK || strcmp(back.request_id, "install-test")) return 4;
    printf("installed libgpurent %s works\n", gpurent_version_string());
    return 0;
}
C
PKG_CONFIG_PATH=$tmp $cc -o "$tmp/prog" "$tmp/prog.c" $(PKG_CONFIG_PATH=$tmp pkg-config --cflags --libs gpurent)
LD_LIBRARY_PATH=$root/lib "$tmp/prog" >/dev/null
# (ldd to a file: grep -q closing the pipe early would kill ldd under pipefail.)
LD_LIBRARY_PATH=$root/lib ldd "$tmp/prog" > "$tmp/ldd.txt"
grep -q "$root/lib/libgpurent.so.[0-9]" "$tmp/ldd.txt" || fail "program did not load the staged library"
# The archive links statically into a program that has its own functions
# named like the library's internals (gr_fail, ml_hash): only gpurent_* is
# global in it, so nothing clashes.
{ cat "$tmp/prog.c"; printf 'int gr_fail(void);\nint gr_fail(void) { return 0; }\nint ml_hash(void);\nint ml_hash(void) { return 1; }\n'; } \
  > "$tmp/prog_static.c"
$cc -o "$tmp/prog_static" "$tmp/prog_static.c" -I"$root/include" "$root/lib/libgpurent.a" \
  $(PKG_CONFIG_PATH=$tmp pkg-config --static --libs gpurent | sed 's/-lgpurent//') \
  || fail "a program with its own gr_fail and ml_hash does not link with libgpurent.a"
"$tmp/prog_static" >/dev/null || fail "the statically linked program failed"
ldd "$tmp/prog_static" > "$tmp/ldd.txt" 2>&1 || true
grep -q libgpurent "$tmp/ldd.txt" && fail "the static program loads libgpurent.so"
$make -s uninstall DESTDIR="$tmp/root" PREFIX=$prefix >/dev/null
left=$(find "$tmp/root" -type f -o -type l)
[ -z "$left" ] || fail "uninstall left: $left"
echo "check-install: staged install, pkg-config build, static link and uninstall work"

# ---- 2. a real install into a temporary PREFIX, then use it ----
# An install with another PREFIX first: the second must not keep its .pc.
P=$tmp/prefix
$make -s install PREFIX="$tmp/other" >/dev/null
$make -s install PREFIX="$P" >/dev/null
grep -qx "prefix=$P" "$P/lib/pkgconfig/gpurent.pc" || fail "the installed .pc does not name $P: $(head -1 "$P/lib/pkgconfig/gpurent.pc")"
grep -q "$tmp/other" "$P/lib/pkgconfig/gpurent.pc" && fail "the installed .pc names an earlier install's prefix"
export PKG_CONFIG_PATH=$P/lib/pkgconfig
unset LD_LIBRARY_PATH
loads_installed() {  # FILE: ldd resolves libgpurent to $P/lib, nothing in the build tree
  ldd "$1" > "$tmp/ldd.txt" 2>&1 || true
  local got
  got=$(awk '$1 ~ /^libgpurent\.so\.[0-9]/ && $2 == "=>" { print $3 }' "$tmp/ldd.txt")
  [ -n "$got" ] && [ -e "$got" ] && [ "$(realpath "$got")" = "$(realpath "$P"/lib/libgpurent.so.[0-9])" ] \
    || fail "$1 does not load $P/lib/libgpurent.so: $(grep libgpurent "$tmp/ldd.txt" || echo none)"
  if readelf -d "$1" | grep -E 'R(UN)?PATH' | grep -q "$top"; then
    fail "$1 has a run path into the build tree: $(readelf -d "$1" | grep -E 'R(UN)?PATH')"
  fi
}

# The CLI, from anywhere, without LD_LIBRARY_PATH.
(cd / && "$P/bin/gpurent" --version) > "$tmp/version.txt" 2>&1 || fail "installed gpurent --version: $(cat "$tmp/version.txt")"
grep -q "^gpurent " "$tmp/version.txt" || fail "gpurent --version printed: $(cat "$tmp/version.txt")"
loads_installed "$P/bin/gpurent"
echo "check-install: $P/bin/gpurent runs: $(cat "$tmp/version.txt")"

# C through pkg-config, with the rpath the README gives.
$cc -o "$tmp/prog2" "$tmp/prog.c" $(pkg-config --cflags --libs gpurent) -Wl,-rpath,"$(pkg-config --variable=libdir gpurent)"
(cd / && "$tmp/prog2") >/dev/null || fail "the pkg-config program did not run"
loads_installed "$tmp/prog2"
echo "check-install: a program built with pkg-config runs against $P/lib"

# Python: make install does not install the Python package; docs/bindings.md
# says to build it against the installed library (pip; setup.py finds it with
# pkg-config and adds an rpath) and point PYTHONPATH at the target folder.
mkdir -p "$tmp/src"
cp "$top"/bindings/*.i "$tmp/src/"
cp -r "$top/bindings/python" "$tmp/src/python"
( cd "$tmp/src/python" && rm -rf build ./*.egg-info gpurent/capi.py gpurent/capi_wrap.c gpurent/_capi*.so \
  tests gpurent/__pycache__ )
site=$P/lib/python3/site-packages
"$python" -m pip install -q --no-build-isolation --no-deps --no-index --disable-pip-version-check \
  --root-user-action=ignore --target "$site" "$tmp/src/python" > "$tmp/pip.txt" 2>&1 \
  || { cat "$tmp/pip.txt"; fail "pip install against $P failed"; }
ext=$(ls "$site"/gpurent/_capi*.so)
loads_installed "$ext"
(cd / && PYTHONPATH=$site "$python" -c '
import gpurent, sys
assert gpurent.__file__.startswith(sys.argv[1]), gpurent.__file__
r = gpurent.Request(request_id="installed", gpu_count=2)
assert gpurent.Request.decode(r.encode()) == r
print(gpurent.version_string())' "$site") > "$tmp/py.txt" 2>&1 || { cat "$tmp/py.txt"; fail "import gpurent from $site failed"; }
echo "check-install: Python built against $P imports with PYTHONPATH=$site ($(cat "$tmp/py.txt"))"

# Go: the module from the source tree, the library from the install. A
# private build cache (so nothing here lingers in the user's), first filled
# as `make go` / `make check-go` fill it with the in-tree build of the same
# package: Go keys a cgo package on its CGO_* flags, not on pkg-config's
# answer, so a build against the install could reuse that one (linked to
# build/) unless the in-tree builds are keyed apart (bindings/common.mk).
export GOCACHE=$tmp/gocache
$make -s -C "$top" go >/dev/null
mkdir -p "$tmp/goprog"
cat > "$tmp/goprog/go.mod" <<EOF
module example.com/installcheck

go 1.19

require gpurent.dev/gpurent v0.0.0

replace gpurent.dev/gpurent => $top/bindings/go
EOF
cat > "$tmp/goprog/main.go" <<'EOF'
package main

import (
	"fmt"
	"os"

	"gpurent.dev/gpurent"
)

func main() {
	q := gpurent.NewRequest()
	q.RequestID, q.GPUCount = "installed", 2
	b, err := q.Encode()
	if err == nil {
		_, err = gpurent.DecodeRequest(b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("go program against libgpurent", gpurent.VersionString())
}
EOF
# Exactly as docs/bindings.md says.
(cd "$tmp/goprog" && GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1 \
  CGO_LDFLAGS="-Wl,-rpath,$(pkg-config --variable=libdir gpurent)" go build -o prog . ) > "$tmp/go.txt" 2>&1 \
  || { cat "$tmp/go.txt"; fail "go build against $P failed"; }
(cd / && "$tmp/goprog/prog") > "$tmp/go.txt" 2>&1 || { cat "$tmp/go.txt"; fail "the Go program did not run"; }
loads_installed "$tmp/goprog/prog"
# Without the rpath flag (no CGO_* flags at all) it must not link build/.
(cd "$tmp/goprog" && GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1 go build -o prog2 . ) > "$tmp/go2.txt" 2>&1 \
  || { cat "$tmp/go2.txt"; fail "go build against $P (no rpath) failed"; }
if readelf -d "$tmp/goprog/prog2" | grep -E 'R(UN)?PATH' | grep -q "$top"; then
  fail "a Go program built against $P links the build tree: $(readelf -d "$tmp/goprog/prog2" | grep -E 'R(UN)?PATH')"
fi
LD_LIBRARY_PATH=$P/lib loads_installed "$tmp/goprog/prog2"
echo "check-install: Go built against $P runs: $(cat "$tmp/go.txt")"
$make -s uninstall PREFIX="$tmp/other" >/dev/null
echo "check-install: install into a PREFIX gives a working CLI, pkg-config build, Python import and Go build"
