#!/usr/bin/env bash
# Install into a temporary prefix (with DESTDIR), build a program with
# pkg-config there, run it, then uninstall and check nothing is left.
set -euo pipefail
make=$1 cc=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
prefix=/opt/gpurent-test
$make -s install DESTDIR="$tmp/root" PREFIX=$prefix >/dev/null
root=$tmp/root$prefix
for f in lib/libgpurent.so lib/libgpurent.a lib/pkgconfig/gpurent.pc include/gpurent.h; do
  [ -e "$root/$f" ] || { echo "check-install: $f not installed"; exit 1; }
done
# The .pc names the final prefix; point pkg-config at the staged copy.
sed "s|^prefix=.*|prefix=$root|; s|^libdir=.*|libdir=$root/lib|; s|^includedir=.*|includedir=$root/include|" \
  "$root/lib/pkgconfig/gpurent.pc" > "$tmp/gpurent.pc"
grep -q '^Requires.private: libsodium msgpack' "$tmp/gpurent.pc" || { echo "check-install: Requires.private wrong"; exit 1; }
cat > "$tmp/prog.c" <<'C'
#include <gpurent.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    if (gpurent_init() != GPURENT_OK) return 1;
    if (gpurent_version_number() != GPURENT_VERSION_NUMBER) return 2;
    gpurent_request q; gpurent_request_init(&q);
    strcpy(q.request_id, "install-test");
    gpurent_buf b = {0};
    if (gpurent_request_encode(&q, &b) != GPURENT_OK) return 3;
    gpurent_request back;
    int rc = gpurent_request_decode(b.data, b.len, &back);
    gpurent_buf_free(&b);
    if (rc != GPURENT_OK || strcmp(back.request_id, "install-test")) return 4;
    printf("installed libgpurent %s works\n", gpurent_version_string());
    return 0;
}
C
PKG_CONFIG_PATH=$tmp $cc -o "$tmp/prog" "$tmp/prog.c" $(PKG_CONFIG_PATH=$tmp pkg-config --cflags --libs gpurent)
LD_LIBRARY_PATH=$root/lib "$tmp/prog"
# The program must have picked the installed library through its soname.
# (ldd to a file: grep -q closing the pipe early would kill ldd under pipefail.)
LD_LIBRARY_PATH=$root/lib ldd "$tmp/prog" > "$tmp/ldd.txt"
grep -q "$root/lib/libgpurent.so.[0-9]" "$tmp/ldd.txt" \
  || { echo "check-install: program did not load the installed library"; exit 1; }
$make -s uninstall DESTDIR="$tmp/root" PREFIX=$prefix >/dev/null
left=$(find "$tmp/root" -type f -o -type l)
[ -z "$left" ] || { echo "check-install: uninstall left: $left"; exit 1; }
echo "check-install: install, pkg-config build and uninstall work"
