#!/usr/bin/env bash
# The ABI guard (docs/abi.md). Called by tests/abi.mk:
#   abi.sh check  LIB BASELINE HEADERS   compare LIB with the baseline; fail on any change
#                                        to what already exists (additions pass)
#   abi.sh update LIB BASELINE HEADERS   write a new baseline from LIB, on purpose
set -euo pipefail
mode=$1 lib=$2 baseline=$3 headers=$4

# Public types are those declared under $headers. abidw must keep source locations for
# that (with --no-show-locs every type looks private and changes are silently filtered).
abidw_flags=(--headers-dir "$headers" --drop-private-types --no-corpus-path --no-comp-dir-path
             --no-elf-needed)
# --no-added-syms: new functions and variables are expected while the API grows; every
# other reported change (removed or changed function, struct layout, enum value) makes
# abidiff exit non-zero (bit 4 = ABI change, bit 8 = incompatible change).
abidiff_flags=(--no-added-syms --headers-dir2 "$headers" --drop-private-types)

command -v abidw >/dev/null || { echo "abi: abidw not found (Debian package abigail-tools)"; exit 1; }

case $mode in
update)
  abidw "${abidw_flags[@]}" --out-file "$baseline" "$lib"
  n=$(grep -c "<elf-symbol name=" "$baseline" || true)
  echo "abi-update: wrote $baseline from $lib ($n exported symbols); review and commit it"
  ;;
check)
  if [ ! -f "$baseline" ]; then
    echo "abi-check: no baseline $baseline; create one with 'make abi-update'"; exit 1
  fi
  want=$(sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$baseline" | head -1)
  got=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
  if [ "$want" != "$got" ]; then
    echo "abi-check: soname $got, baseline has $want: a MAJOR bump needs a new baseline ('make abi-update')"
    exit 1
  fi
  report=$(mktemp); trap 'rm -f "$report"' EXIT
  set +e
  abidiff "${abidiff_flags[@]}" "$baseline" "$lib" > "$report" 2>&1
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    cat "$report"
    why="ABI changed"
    (( rc & 8 )) && why="incompatible ABI change"
    (( rc & 3 )) && why="abidiff failed (exit $rc)"
    echo "abi-check: $why against $baseline (abidiff exit $rc)."
    echo "  If this is intended (and allowed by docs/abi.md), run 'make abi-update' and commit the baseline."
    exit 1
  fi
  added=$(abidiff --headers-dir2 "$headers" --drop-private-types "$baseline" "$lib" 2>/dev/null \
          | grep -c "^  \[A\]" || true)
  echo "abi-check: $got compatible with $baseline ($added additions since the baseline)"
  ;;
*)
  echo "usage: abi.sh check|update LIB BASELINE HEADERS"; exit 2
  ;;
esac
