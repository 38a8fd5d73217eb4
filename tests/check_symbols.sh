#!/usr/bin/env bash
# Fails when the shared library exports anything outside the gpurent_ API,
# or when its soname is not the one the version header implies.
set -euo pipefail
build=$1 soname=$2
lib=$(ls "$build"/libgpurent.so.*.*.* | head -1)
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
echo "check-symbols: $count gpurent_ symbols, soname $got"
