#!/usr/bin/env bash
# The bindings cover the whole public API, in both languages.
#
#   check_bindings.sh PY_WRAP GO_WRAP PY_COVERAGE GO_COVERAGE FIXTURE_TOOL [SCENARIO_TOOL]
#
# Fails when
#  1. a GPURENT_API function declared in include/gpurent/*.h has no wrapper
#     in the SWIG-generated Python or Go C code (_wrap_<name without gpurent_>);
#  2. a test suite never calls it: the generated wrappers record each gpurent_
#     function they run in the coverage files (bindings/gpurent.i,
#     GPURENT_BIND_COVER), written by bindings/python/tests (pytest) and
#     bindings/go (go test) — so the function must be *called* by a test in
#     each language, through the idiomatic layer or gpurent.capi / capi;
#  3. a status in include/gpurent/status.h has no exception class in
#     bindings/python/gpurent/errors.py or no sentinel in bindings/go/errors.go;
#  4. the C encoder disagrees with a wire fixture's expected bytes
#     (tests/fixtures/wire/*.hex; Python and Go are checked by their suites);
#  5. the C library disagrees with a scenario's expected records
#     (tests/fixtures/scenario/*.hex: tier certificates, match receipts).
set -euo pipefail
py_wrap=$1 go_wrap=$2 py_cov=$3 go_cov=$4 fixture_tool=$5 scenario_tool=${6:-}
fail=0
bad() { echo "check-bindings: $*"; fail=1; }

for f in "$py_wrap" "$go_wrap"; do
  [ -f "$f" ] || { echo "check-bindings: $f missing (make python go)"; exit 1; }
done
for f in "$py_cov" "$go_cov"; do
  [ -s "$f" ] || { echo "check-bindings: $f missing or empty: run make check-python check-go first"; exit 1; }
done

# Public functions: GPURENT_API <return type> gpurent_x(  (one per line in our headers).
api=$(grep -ho 'GPURENT_API[^(;]*\bgpurent_[a-z0-9_]*[[:space:]]*(' include/gpurent/*.h \
      | grep -o 'gpurent_[a-z0-9_]*[[:space:]]*($' | tr -d ' \t(' | sort -u)
[ -n "$api" ] || { echo "check-bindings: no GPURENT_API function found"; exit 1; }

# Functions a module still owes (bindings/pending.txt): reported, not failed.
pending=$(sed -e 's/#.*//' bindings/pending.txt 2>/dev/null | awk 'NF {print $1}' | sort -u)

n=0 np=0
for fn in $api; do
  short=${fn#gpurent_}
  gaps=""
  grep -q "_wrap_${short}(" "$py_wrap" || gaps="$gaps|no Python wrapper (add it to a bindings/<module>.i)"
  grep -q "_wrap_${short}_capi_" "$go_wrap" || gaps="$gaps|no Go wrapper (add it to a bindings/<module>.i)"
  grep -qx "$fn" "$py_cov" || gaps="$gaps|no test in bindings/python/tests calls it"
  grep -qx "$fn" "$go_cov" || gaps="$gaps|no test in bindings/go calls it"
  if grep -qx "$fn" <<< "$pending"; then
    [ -n "$gaps" ] || bad "$fn: bound and tested in both languages: delete it from bindings/pending.txt"
    np=$((np + 1))
    continue
  fi
  n=$((n + 1))
  IFS='|' read -ra why <<< "${gaps#|}"
  for w in "${why[@]}"; do [ -n "$w" ] && bad "$fn: $w"; done
done
for fn in $pending; do
  grep -qx "$fn" <<< "$api" || bad "$fn: in bindings/pending.txt but not a public function"
done

# Statuses: every GPURENT_E_X has a Python class and a Go sentinel.
for st in $(grep -o 'GPURENT_E_[A-Z0-9_]*[[:space:]]*=' include/gpurent/status.h | grep -o 'GPURENT_E_[A-Z0-9_]*'); do
  short=${st#GPURENT_}
  grep -q "capi\.${short}:" bindings/python/gpurent/errors.py || bad "$st: no class in bindings/python/gpurent/errors.py STATUS_CLASSES"
  grep -q "sentinel(capi\.${short})" bindings/go/errors.go || bad "$st: no sentinel in bindings/go/errors.go"
done

# Wire fixtures: the C encoder gives the committed bytes.
nf=0
for rec in tests/fixtures/wire/*.rec; do
  nf=$((nf + 1))
  want=$(tr -d '[:space:]' < "${rec%.rec}.hex")
  got=$("$fixture_tool" "$rec") || { bad "$rec: the C encoder refused it"; continue; }
  [ "$got" = "$want" ] || bad "$rec: C encodes $got, ${rec%.rec}.hex says $want"
done

# Scenarios: the C library gives the committed certificates and receipts.
ns=0
if [ -n "$scenario_tool" ]; then
  for scn in tests/fixtures/scenario/*.scn; do
    ns=$((ns + 1))
    got=$("$scenario_tool" "$scn") || { bad "$scn: the C run failed"; continue; }
    [ "$got" = "$(cat "${scn%.scn}.hex")" ] || bad "$scn: C gives other records than ${scn%.scn}.hex"
  done
fi

[ $fail -eq 0 ] || { echo "check-bindings: FAILED (see docs/bindings.md, 'Adding a module')"; exit 1; }
echo "check-bindings: $n public functions bound and called in Python and Go; $nf wire fixtures and $ns scenarios agree with C"
[ $np -eq 0 ] || echo "check-bindings: $np public functions still pending (bindings/pending.txt): $(awk '!/^#/ && NF {print $2}' bindings/pending.txt | sort | uniq -c | awk '{printf "%s %s ", $2, $1}')"
