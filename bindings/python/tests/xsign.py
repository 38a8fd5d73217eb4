"""Independent envelope checks with Python's `cryptography` (OpenSSL Ed25519)
and hashlib, written from docs/wire-format.md ("Signed envelopes"), not from
the library: the body, the signed message M, the statement digest.

    python3 xsign.py FILE     verify every envelope in FILE (lines: hex
                              envelope), as signed by the Go binding; exit 1
                              unless all verify (make check-bindings)
"""
import hashlib
import struct
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

CONTEXT = b"libgpurent envelope v1"


def _uint(data, i):
    b = data[i]
    if b <= 0x7F:
        return b, i + 1
    size = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}[b]
    return int.from_bytes(data[i + 1:i + 1 + size], "big"), i + 1 + size


def _bin(data, i):
    size = {0xC4: 1, 0xC5: 2, 0xC6: 4}[data[i]]
    n = int.from_bytes(data[i + 1:i + 1 + size], "big")
    start = i + 1 + size
    return data[start:start + n], start + n


def parse(env):
    """(statement, body, [(key, signature)]) of an envelope."""
    if env[0] != 0x89:
        raise ValueError("not a 9-entry map")
    i, statement = 1, None
    for key in range(8):
        if env[i] != key:
            raise ValueError(f"key {key} expected")
        i += 1
        if key in (2, 5, 6, 7):
            _, i = _bin(env, i)
        else:
            val, i = _uint(env, i)
            if key == 1:
                statement = val
    body = b"\x88" + env[1:i]
    if env[i] != 8 or env[i + 1] & 0xF0 != 0x90:
        raise ValueError("signatures expected")
    count, i = env[i + 1] & 0x0F, i + 2
    sigs = []
    for _ in range(count):
        if env[i:i + 2] != b"\x82\x01":
            raise ValueError("signature map expected")
        pk, i = _bin(env, i + 2)
        if env[i] != 2:
            raise ValueError("signature key 2 expected")
        sig, i = _bin(env, i + 1)
        sigs.append((pk, sig))
    if i != len(env):
        raise ValueError("trailing bytes")
    return statement, body, sigs


def message(env):
    """The signed message M."""
    statement, body, _ = parse(env)
    le = lambda n: struct.pack("<Q", n)  # noqa: E731
    return le(3) + le(len(CONTEXT)) + CONTEXT + le(8) + le(statement) + le(len(body)) + body


def blake2b_of_message(env):
    """The statement digest as docs/wire-format.md defines it."""
    return hashlib.blake2b(message(env), digest_size=32).digest()


def verify_with_cryptography(env):
    """True when every signature verifies under `cryptography`."""
    try:
        m = message(env)
        sigs = parse(env)[2]
    except (ValueError, KeyError, IndexError):
        return False
    if not sigs:
        return False
    for pk, sig in sigs:
        try:
            Ed25519PublicKey.from_public_bytes(pk).verify(sig, m)
        except (InvalidSignature, ValueError):
            return False
    return True


def write_signed(path, env):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(env.hex() + "\n")


def main(argv):
    lines = [ln.strip() for ln in Path(argv[1]).read_text().splitlines() if ln.strip()]
    if not lines:
        print(f"xsign: {argv[1]}: no envelope")
        return 1
    for ln in lines:
        env = bytes.fromhex(ln)
        if not verify_with_cryptography(env):
            print(f"xsign: cryptography refuses an envelope from {argv[1]}")
            return 1
    print(f"xsign: Python's cryptography verified {len(lines)} envelope(s) signed through the Go binding")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
