#!/usr/bin/env bash
# Build libsodium and msgpack-c for WebAssembly from their Debian source
# packages, once: the static libraries and headers land in $OUT/{lib,include}
# and a stamp file makes later runs of the same script return at once.
#
# The sources come through apt-get source with a private deb-src list (its own
# sources.list, lists and cache under $OUT/apt): /etc/apt is never touched, so
# there is nothing to remove afterwards except that folder, which goes too.
# The list is signed-by the Debian archive keyring like the system's own.
set -euo pipefail

OUT=${1:?usage: wasm_deps.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STAMP="$OUT/deps.stamp"
# The stamp holds this script's digest: a changed recipe rebuilds, the same
# one only refreshes the stamp (make compares its time with the script's).
# The field multiplication for WebAssembly SIMD (see the header) is part of
# the recipe: its digest joins the script's.
FE_SIMD="$(cd "$(dirname "$0")" && pwd)/wasm/fe25519_wasm_simd.h"
ME=$(cat "$0" "$FE_SIMD" | sha256sum | cut -c1-64)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$ME" ]; then touch "$STAMP"; exit 0; fi

: "${EMCC:=emcc}"
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
JOBS=${JOBS:-$(nproc)}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# The mirror the system itself uses for Debian's main archive (deb822 or
# one-line format), else deb.debian.org.
system_mirror() {
  { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
      sed -E 's/\[[^]]*\] *//' | awk '{print $2}'; } | grep -v security | head -1 || true
}
MIRROR=${DEBIAN_MIRROR:-$(system_mirror)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=${DEBIAN_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}

APT="$OUT/apt"
rm -rf "$APT" "$OUT/src"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$OUT/src" "$OUT/lib" "$OUT/include"
echo "deb-src [signed-by=$KEYRING] $MIRROR $SUITE main" > "$APT/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
          -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
          -o "Debug::NoLocking=1" -o "APT::Sandbox::User=$(id -un)")
trap 'rm -rf "$APT"' EXIT
apt-get -q "${apt_opts[@]}" update
(cd "$OUT/src" && apt-get -q "${apt_opts[@]}" source libsodium msgpack-c)
rm -rf "$APT"

sodium_dir=$(find "$OUT/src" -maxdepth 1 -type d -name 'libsodium-*' | head -1)
msgpack_dir=$(find "$OUT/src" -maxdepth 1 -type d -name 'msgpack-c-*' | head -1)
[ -n "$sodium_dir" ] && [ -n "$msgpack_dir" ] || { echo "wasm_deps: sources missing" >&2; exit 1; }

# libsodium: the Debian source carries no generated configure (autogen.sh
# would need autotools), so its C files are compiled directly, as the MSVC
# project does: version.h from its template, no asm, no SIMD (the x86 files
# compile to nothing without their HAVE_* macros), randombytes through
# emscripten's own path (crypto.getRandomValues / node's crypto). The
# Ed25519 files use WebAssembly SIMD for the field multiplication below
# (Chrome 91, Firefox 89, Safari 16.4, Node 16.4 and later).
sinc="$sodium_dir/src/libsodium/include"
sed -e 's/@VERSION@/1.0.18/' -e 's/@SODIUM_LIBRARY_VERSION_MAJOR@/10/' \
    -e 's/@SODIUM_LIBRARY_VERSION_MINOR@/3/' -e 's/@SODIUM_LIBRARY_MINIMAL_DEF@//' \
    "$sinc/sodium/version.h.in" > "$sinc/sodium/version.h"
# Ed25519's field multiplication, addition and subtraction (fe_25_5: wasm32
# has no 64x64->128 multiply) become the SIMD128 ones of
# bindings/js/wasm/fe25519_wasm_simd.h, bit-identical to libsodium's, which
# stay beside them as fe25519_*_ref (make check-js compares them). Nothing else changes: curve,
# scalar and verification code are libsodium's own.
fe_h="$sinc/sodium/private/ed25519_ref10_fe_25_5.h"
for fn in mul add sub; do
  fe_args='(fe25519 h, const fe25519 f, const fe25519 g)'
  [ "$(grep -cF "fe25519_$fn$fe_args" "$fe_h")" = 1 ] && [ "$(grep -c "fe25519_$fn(" "$fe_h")" = 1 ] || {
    echo "wasm_deps: $fe_h is not the fe25519_$fn this recipe expects" >&2; exit 1; }
  sed -i "s/^fe25519_$fn(fe25519 h, const fe25519 f, const fe25519 g)\$/fe25519_${fn}_ref(fe25519 h, const fe25519 f, const fe25519 g)/" "$fe_h"
  grep -q "^fe25519_${fn}_ref(" "$fe_h" || { echo "wasm_deps: renaming fe25519_$fn failed" >&2; exit 1; }
done
printf '\n#include "fe25519_wasm_simd.h"\n' >> "$fe_h"
cp "$FE_SIMD" "$sinc/sodium/private/"
# SIMD128 only for the files that include the field arithmetic, and with
# clang's autovectorisers off: the intrinsics above are the only SIMD code.
# (Debian's clang 14 vectorised a loop that truncates 64-bit values to bytes
# into wrong code, found by fe_check.c's own generator: nothing is left to it.)
SIMD_CFLAGS="-msimd128 -fno-vectorize -fno-slp-vectorize"
mkdir -p "$OUT/obj/sodium"
find "$sodium_dir/src/libsodium" -name '*.c' | sort | \
  xargs -P "$JOBS" -I{} sh -c 'o="$1/obj/sodium/$(echo "$2" | sed "s|.*/src/libsodium/||; s|/|_|g; s|\.c$|.o|")"; \
    simd=; if grep -q "ed25519_ref10\.h" "$2"; then simd="$5"; fi; \
    "$3" -O2 $simd -DSODIUM_STATIC -DNATIVE_LITTLE_ENDIAN -DCONFIGURED=1 -I"$4" -I"$4/sodium" -c "$2" -o "$o"' \
    _ "$OUT" {} "$EMCC" "$sinc" "$SIMD_CFLAGS"
rm -f "$OUT/lib/libsodium.a"
emar rcs "$OUT/lib/libsodium.a" "$OUT/obj/sodium"/*.o
cp -r "$sinc/." "$OUT/include/"
rm -f "$OUT/include/sodium/version.h.in"

# msgpack-c (C part): five sources; its two configured headers come from
# their templates with the endianness of wasm32 (little), as cmake would.
for h in sysdep pack_template; do
  sed -e 's/@MSGPACK_ENDIAN_BIG_BYTE@/0/' -e 's/@MSGPACK_ENDIAN_LITTLE_BYTE@/1/' \
    "$msgpack_dir/cmake/$h.h.in" > "$msgpack_dir/include/msgpack/$h.h"
done
mkdir -p "$OUT/obj/msgpack"
for f in objectc unpack version vrefbuffer zone; do
  "$EMCC" -O2 -I"$msgpack_dir/include" -c "$msgpack_dir/src/$f.c" -o "$OUT/obj/msgpack/$f.o"
done
rm -f "$OUT/lib/libmsgpackc.a"
emar rcs "$OUT/lib/libmsgpackc.a" "$OUT/obj/msgpack"/*.o
cp -r "$msgpack_dir/include/." "$OUT/include/"
rm -rf "$OUT/src" "$OUT/obj"
echo "$ME" > "$STAMP"
