#!/usr/bin/env bash
# Build libsodium and msgpack-c for WebAssembly from their Debian source
# packages, once: the static libraries and headers land in $OUT/{lib,include}
# and a stamp file makes later runs return at once.
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
[ -f "$STAMP" ] && exit 0

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
# emscripten's own path (crypto.getRandomValues / node's crypto).
sinc="$sodium_dir/src/libsodium/include"
sed -e 's/@VERSION@/1.0.18/' -e 's/@SODIUM_LIBRARY_VERSION_MAJOR@/10/' \
    -e 's/@SODIUM_LIBRARY_VERSION_MINOR@/3/' -e 's/@SODIUM_LIBRARY_MINIMAL_DEF@//' \
    "$sinc/sodium/version.h.in" > "$sinc/sodium/version.h"
mkdir -p "$OUT/obj/sodium"
find "$sodium_dir/src/libsodium" -name '*.c' | sort | \
  xargs -P "$JOBS" -I{} sh -c 'o="$1/obj/sodium/$(echo "$2" | sed "s|.*/src/libsodium/||; s|/|_|g; s|\.c$|.o|")"; \
    "$3" -O2 -DSODIUM_STATIC -DNATIVE_LITTLE_ENDIAN -DCONFIGURED=1 -I"$4" -I"$4/sodium" -c "$2" -o "$o"' \
    _ "$OUT" {} "$EMCC" "$sinc"
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
date -u +%s > "$STAMP"
