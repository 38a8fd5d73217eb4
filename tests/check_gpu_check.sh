#!/bin/bash
# gpu-check against the fake driver (tests/gpucheck.mk): each machine's exit
# status and the lines that carry its verdicts.
set -u
BIN=$1 FAKE=$2 LOG=$3
fail() { echo "check-gpu-check: $*"; [ -f "$out" ] && cat "$out"; exit 1; }
run() { # machine expected-status
    out=$LOG-$1.log
    FAKECUDA_MACHINE=$1 "$BIN" --fake-driver "$FAKE" --check-mib 4 --check-ms 20 > "$out" 2>&1
    local rc=$?
    [ "$rc" = "$2" ] || fail "machine $1: exit status $rc, expected $2"
}
has() { grep -Eq -- "$1" "$out" || fail "machine $m: no line matching '$1'"; }

m=h100; run h100 0
has '^GPU 0  0000:1b:00  NVIDIA H100 80GB HBM3$'
has '^  model +h100-sxm5-80gb \(by driver name; table v1;'
has '^  compute capability +9\.0 +9\.0 +pass'
has '^  SMs +132 +132 +100\.0% +pass'
has '^  memory MiB +81559 +81920 +99\.5% +pass'
has '^  boost clock MHz +1980 +1980 +100\.0% +pass'
has '^  bus width bits +5120 +5120 +100\.0% +pass'
has '^  D2D copy MB/s +[0-9]+ +3352000 +[0-9.]+% +pass'
has '^  FP32 GFLOPS +[0-9]+ +66908 +9[0-9]\.[0-9]% +pass'
has '^  nonce +bound +challenge +pass'
has '^GPU 0: PASS$'
has '^gpu-check: 1 GPU, all checks pass$'

m=a100x8; run a100x8 0
[ "$(grep -c '^  model +a100-sxm4-80gb' -E "$out")" = 8 ] || fail "a100x8: not 8 A100 SXM4 80GB"
has '^gpu-check: 8 GPUs, all checks pass$'

# Measured figures off: 30 % speed fails bandwidth and FP32, not the attributes.
m=slow; run slow 1
has '^  SMs +132 +132 +100\.0% +pass'
has '^  D2D copy MB/s +[0-9]+ +3352000 +[0-9.]+% +FAIL'
has '^  FP32 GFLOPS +[0-9]+ +66908 +[0-9.]+% +FAIL'
has '^GPU 0: FAIL$'
has '^gpu-check: 1 GPU, SOME CHECKS FAILED$'

# Attributes off: an A100 calling itself an H100.
m=impostor; run impostor 1
has '^  compute capability +8\.0 +9\.0 +FAIL'
has '^  SMs +108 +132 +81\.8% +FAIL'
has '^  boost clock MHz +1410 +1980 +71\.2% +FAIL'
has '^  FP32 GFLOPS +[0-9]+ +66908 +[0-9.]+% +FAIL'

# The kernel's output does not match the nonce.
m=wrongoutput; run wrongoutput 1
has '^  nonce +bound +challenge +FAIL +the nonce-seeded kernel'

# Nothing to check: said honestly, exit 2.
m=nodevice; run nodevice 2
has '^gpu-check: no GPU checked: .*GPURENT_E_NO_DEVICE'
out=$LOG-nodriver.log
"$BIN" --fake-driver /nonexistent/libcuda.so.1 > "$out" 2>&1
rc=$?
[ "$rc" = 2 ] || fail "no driver: exit status $rc, expected 2"
m=nodriver; has '^gpu-check: no GPU checked: .*GPURENT_E_NO_DRIVER'
"$BIN" --bogus > /dev/null 2>&1
[ "$?" = 3 ] || fail "bad arguments: expected exit status 3"
cat "$LOG-h100.log"
echo "check-gpu-check: passed"
