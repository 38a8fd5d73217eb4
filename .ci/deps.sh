#!/usr/bin/env bash
# Install the Debian/Ubuntu packages libgpurent needs, only those missing.
# apt-get update runs first (only when something is missing); sudo is used
# when not root. Package names that differ between releases are tried in turn.
set -euo pipefail

want=(gcc make pkg-config clang valgrind libsodium-dev libcmocka-dev swig golang-go
      python3 python3-dev python3-pytest python3-msgpack python3-cryptography
      python3-setuptools python3-pip python3-wheel libjansson-dev abigail-tools libclang-rt-dev
      emscripten nodejs chromium dpkg-dev nats-server libnats-dev)
# (emscripten, nodejs, dpkg-dev: make wasm, which fetches libsodium and
#  msgpack-c with apt-get source; chromium: the marketplace page's test;
#  nats-server, libnats-dev: the network nodes of `gpurent node`, make demo-net.)
# --bench: also what the benchmarks need (SciPy for bench/match_exact.py).
[ "${1:-}" = "--bench" ] && want+=(python3-numpy python3-scipy)
# msgpack-c: libmsgpack-dev on Debian 12 / Ubuntu 22.04, libmsgpack-c-dev later.
msgpack_alts=(libmsgpack-dev libmsgpack-c-dev)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${want[@]}"; do installed "$p" || missing+=("$p"); done
have_msgpack=0
for p in "${msgpack_alts[@]}"; do installed "$p" && have_msgpack=1; done

if [ ${#missing[@]} -eq 0 ] && [ $have_msgpack -eq 1 ]; then
  echo "deps: all packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "deps: installing ${missing[*]} $([ $have_msgpack -eq 0 ] && echo msgpack-c)"
$SUDO apt-get update -q
if [ $have_msgpack -eq 0 ]; then
  for p in "${msgpack_alts[@]}"; do
    if apt-cache show "$p" >/dev/null 2>&1; then missing+=("$p"); break; fi
  done
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
