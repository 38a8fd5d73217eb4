#!/usr/bin/env bash
# Fails when the shared library or the static archive exports anything outside
# the gpurent_ API, when the two export different sets, or when the soname is
# not the one the version header implies.
set -euo pipefail
build=$1 soname=$2
# The soname link names the current build (an older libgpurent.so.X.Y.Z may
# still lie in the build folder after a version bump).
lib=$(readlink -f "$build/$soname")
[ -f "$lib" ] || { echo "check-symbols: $build/$soname missing"; exit 1; }
bad=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -v '^gpurent_' | grep -v '^GPURENT_[0-9.]*$' || true)
if [ -n "$bad" ]; then
  echo "check-symbols: exported symbols without the gpurent_ prefix:"; echo "$bad"; exit 1
fi
count=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -c '^gpurent_' || true)
[ "$count" -gt 0 ] || { echo "check-symbols: no gpurent_ symbol exported"; exit 1; }
got=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[ "$got" = "$soname" ] || { echo "check-symbols: soname '$got', expected '$soname'"; exit 1; }
# Every exported function must be declared in a public header.
missing=""
for s in $(nm -D --defined-only "$lib" | awk '$2=="T" {print $NF}' | sed 's/@.*//'); do
  grep -qw "$s" include/gpurent/*.h || missing="$missing $s"
done
[ -z "$missing" ] || { echo "check-symbols: exported but undeclared:$missing"; exit 1; }
# The archive: its one relocatable object keeps only the public API global
# (every hidden symbol localized), so an embedder's own ml_hash or mtab_find
# cannot clash with ours. Same names as the shared library's exports.
ar=$build/libgpurent.a
[ -f "$ar" ] || { echo "check-symbols: $ar missing"; exit 1; }
ar_globals=$(nm -g --defined-only "$ar" | awk 'NF==3 {print $3}' | sort)
bad=$(echo "$ar_globals" | grep -v '^gpurent_' | grep -v '^$' || true)
if [ -n "$bad" ]; then
  echo "check-symbols: $ar defines global symbols without the gpurent_ prefix:"; echo "$bad"; exit 1
fi
so_funcs=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep '^gpurent_' | sed 's/@.*//' | sort -u)
diffs=$(diff <(echo "$so_funcs") <(echo "$ar_globals" | sort -u) || true)
[ -z "$diffs" ] || { echo "check-symbols: archive and shared library export different sets:"; echo "$diffs"; exit 1; }
echo "check-symbols: $count gpurent_ symbols (shared library and archive), soname $got"
