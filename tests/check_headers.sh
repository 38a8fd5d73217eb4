#!/usr/bin/env bash
# Every public header must compile on its own, as strict C11 and as C++.
set -euo pipefail
cc=$1 depflags=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for h in include/gpurent.h include/gpurent/*.h; do
  rel=${h#include/}
  printf '#include "%s"\nint main(void) { return 0; }\n' "$rel" > "$tmp/t.c"
  $cc -std=c11 -Wall -Wextra -pedantic -Werror -Iinclude -c "$tmp/t.c" -o "$tmp/t.o" \
    || { echo "check-headers: $h does not compile alone as C11"; exit 1; }
  cp "$tmp/t.c" "$tmp/t.cpp"
  if command -v c++ >/dev/null; then
    c++ -std=c++11 -Wall -Wextra -pedantic -Werror -Iinclude -c "$tmp/t.cpp" -o "$tmp/t.o" \
      || { echo "check-headers: $h does not compile as C++"; exit 1; }
  fi
  if grep -Eq '#include *[<"](sodium|msgpack|cuda)' "$h"; then
    echo "check-headers: $h includes a dependency's header"; exit 1
  fi
done
# Array sizes in public declarations are named constants, never a bare [32]
# (comments aside).
bare=$(sed 's|/\*.*\*/||; s|^ *\*.*||' include/gpurent/*.h | grep -nE '\[[0-9]+\]' || true)
[ -z "$bare" ] || { echo "check-headers: bare array sizes in public headers:"; echo "$bare"; exit 1; }

# Calls whose result says whether data may be used (verify, decode, unseal,
# load, apply) carry GPURENT_NODISCARD, and ignoring one is a warning.
unmarked=$(grep -h 'GPURENT_API[^(;]*\bgpurent_[a-z0-9_]*(' include/gpurent/*.h \
  | grep -E '\bgpurent_[a-z0-9_]*(_verify|_verify_many|_decode|_unseal|_load|_apply|_apply_[a-z_]*)\(' \
  | grep -v GPURENT_NODISCARD || true)
[ -z "$unmarked" ] || { echo "check-headers: without GPURENT_NODISCARD:"; echo "$unmarked"; exit 1; }
printf '#include "gpurent.h"\nvoid f(const uint8_t *d, size_t n, gpurent_envelope *e);\nvoid f(const uint8_t *d, size_t n, gpurent_envelope *e) { gpurent_envelope_decode(d, n, e); }\n' > "$tmp/t.c"
if $cc -std=c11 -Wall -Werror -Iinclude -c "$tmp/t.c" -o "$tmp/t.o" 2>/dev/null; then
  echo "check-headers: ignoring gpurent_envelope_decode()'s result compiles without a warning"; exit 1
fi

# Every internal header compiles alone and included twice (its include guard
# covers all of it), as the library's sources are compiled.
for h in lib/*/*.h; do
  rel=${h#lib/}
  printf '#include "%s"\n#include "%s"\nint main(void) { return 0; }\n' "$rel" "$rel" > "$tmp/t.c"
  # shellcheck disable=SC2086 # depflags holds several flags
  $cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DGPURENT_BUILDING -Wall -Wextra -Werror \
    -Iinclude -Ilib $depflags -c "$tmp/t.c" -o "$tmp/t.o" \
    || { echo "check-headers: $h does not compile alone, or not twice (include guard)"; exit 1; }
done
echo "check-headers: every public header compiles alone (C11, C++); every internal header alone and twice"
