#!/usr/bin/env bash
# A checkout without the SWIG-generated Go files (bindings/go/capi/capi.go,
# capi_wrap.c) must fail to build with an error that says to run `make go`,
# not with "undefined: capi.Envelope".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r "$top/bindings/go" "$tmp/go"
rm -f "$tmp/go/capi/capi.go" "$tmp/go/capi/capi_wrap.c"
if (cd "$tmp/go" && GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1 go build ./... > "$tmp/out.txt" 2>&1); then
  echo "check-go-clean: a checkout without generated files built"; exit 1
fi
grep -q "run_make_go" "$tmp/out.txt" || { echo "check-go-clean: no hint to run make go in:"; cat "$tmp/out.txt"; exit 1; }
if grep -q "undefined: capi\.[A-Z]" "$tmp/out.txt"; then
  echo "check-go-clean: errors about capi's missing names instead of one hint:"; cat "$tmp/out.txt"; exit 1
fi
echo "check-go-clean: a checkout without generated files says: $(grep -m1 run_make_go "$tmp/out.txt")"
