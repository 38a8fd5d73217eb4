#!/usr/bin/env python3
"""Read the GPURENT stream from a given sequence, verify every envelope with
libgpurent, print one line per record and the counts of what was verified and
what was dropped, by reason (docs/net-clients.md).

    PYTHONPATH=bindings/python python3 examples/net/subscribe.py \\
        --servers nats://127.0.0.1:4222 --trust trust.snap [--stream GPURENT] [--from-seq 1]

--trust names a trust store snapshot (gpurent_trust_save / TrustStore.save_file):
the keys this reader trusts, their roles and the replay cache. Without
--from-seq the reader resumes after the stream sequence the snapshot names
(a state is its snapshot plus the sequence it reflects). Each line:

    ok   <seq> <subject kind> <signer, 16 hex> <statement digest, 16 hex>
    drop <seq> <subject kind> <reason> <status name or detail>

and the last line: `verified V dropped D` followed by `reason=count` pairs in
alphabetical order. The Go example (examples/go/net_subscribe) prints the very
same lines for the same stream. Exit status 0 when the stream could be read
(drops are an outcome, not a failure), 2 on bad arguments, 1 otherwise.
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpurent  # noqa: E402
import natsmini  # noqa: E402

# subject kind -> (statement the envelope must carry, role its signer must hold; 0 = the statement's default)
KINDS = {
    "report": (gpurent.RecordType.GPU_REPORT, 0),
    "offer": (gpurent.RecordType.OFFER, 0),
    "request": (gpurent.RecordType.REQUEST, 0),
    "audit": (gpurent.RecordType.AUDIT_REPORT, 0),
    "cert": (gpurent.RecordType.TIER_CERT, 0),
    "receipt": (gpurent.RecordType.MATCH_RECEIPT, 0),
    "cut": (0, gpurent.Role.MATCHER),  # batch cut markers: any statement, by a matchmaker key
    "era": (0, gpurent.Role.AUDITOR),  # era cut markers on gpurent.era (docs/net.md): by an auditor key
}

# library error class -> drop reason (the reasons docs/net-clients.md lists)
REASONS = [
    (gpurent.BadSignatureError, "forged"),
    (gpurent.ReplayedError, "replayed"),
    (gpurent.UnknownIssuerError, "unknown-signer"),
    (gpurent.RevokedError, "revoked"),
    (gpurent.RoleNotAllowedError, "wrong-role"),
    (gpurent.ExpiredError, "expired"),
    (gpurent.NotYetValidError, "not-yet-valid"),
    (gpurent.QuorumNotMetError, "quorum-not-met"),
    (gpurent.WrongRecordError, "wrong-type"),
    (gpurent.WireError, "undecodable"),
]


class Reader:
    """Verifies what it is given, in stream order, and keeps the counts."""

    def __init__(self, trust: gpurent.TrustStore, now: int, skew_s: int, quorum: int) -> None:
        self.trust, self.now, self.skew_s, self.quorum = trust, now, skew_s, quorum
        self.verified = 0
        self.dropped: collections.Counter = collections.Counter()

    def handle(self, seq: int, subject: str, data: bytes) -> str:
        parts = subject.split(".")
        kind = parts[1] if parts[0] == "gpurent" and (len(parts) == 3 or parts[1:] == ["era"]) else "?"
        if kind not in KINDS:
            return self._drop(seq, kind, "unknown-subject", subject)
        statement, role = KINDS[kind]
        quorum = self.quorum if kind == "cert" else 1
        keyed = kind not in ("cut", "era")  # the subject names a signer's key
        try:
            if keyed and not self._names_a_signer(data, parts[2], statement, role, quorum):
                # Checked before the replay cache sees the envelope: a copy filed under another
                # name by whoever held the bytes first must not make the author's own
                # publication look like a replay.
                return self._drop(seq, kind, "wrong-subject", parts[2][:16])
            with self.trust.verify(data, self.now, self.skew_s, statement=statement, required_role=role,
                                   quorum=quorum) as v:
                signers = [s.hex() for s in v.signers]
                digest = v.digest.hex()
        except gpurent.Error as e:
            reason = next((r for cls, r in REASONS if isinstance(e, cls)), "rejected")
            return self._drop(seq, kind, reason, e.name)
        self.verified += 1
        return f"ok {seq} {kind} {signers[0][:16]} {digest[:16]}"

    def _names_a_signer(self, data: bytes, key_hex: str, statement: int, role: int, quorum: int) -> bool:
        """Whether the subject's key signed the envelope, without touching the replay cache: the
        header's issuer, else (a co-signed statement) the signers of a verification that does
        not record the nonce. Raises gpurent.Error for bytes that do not verify at all."""
        if gpurent.Envelope.decode(data).issuer.hex() == key_hex:
            return True
        with self.trust.verify(data, self.now, self.skew_s, statement=statement, required_role=role,
                               quorum=quorum, check_replay=False) as v:
            return key_hex in [s.hex() for s in v.signers]

    def _drop(self, seq: int, kind: str, reason: str, why: str) -> str:
        self.dropped[reason] += 1
        return f"drop {seq} {kind} {reason} {why}"

    def summary(self) -> str:
        total = sum(self.dropped.values())
        pairs = " ".join(f"{r}={n}" for r, n in sorted(self.dropped.items()))
        return f"verified {self.verified} dropped {total}" + (f" {pairs}" if pairs else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="read and verify the gpurent stream")
    ap.add_argument("--servers", required=True, help="NATS URLs, comma-separated")
    ap.add_argument("--stream", default="GPURENT")
    ap.add_argument("--from-seq", type=int, default=0,
                    help="first stream sequence to read (default: after the trust snapshot's sequence)")
    ap.add_argument("--trust", required=True, help="trust store snapshot file")
    ap.add_argument("--now", type=int, default=0, help="verification time, Unix seconds (default: now)")
    ap.add_argument("--skew", type=int, default=300, help="clock skew allowed, seconds")
    ap.add_argument("--cert-quorum", type=int, default=1, help="distinct trusted auditors a certificate needs")
    ap.add_argument("--consumer", choices=("pull", "push"), default="pull")
    args = ap.parse_args(argv)
    if args.from_seq < 0 or args.cert_quorum < 1:
        ap.error("--from-seq must be >= 0 and --cert-quorum >= 1")

    gpurent.init()
    trust, snap_seq = gpurent.TrustStore.load_file(args.trust)
    start = args.from_seq or snap_seq + 1
    with trust:
        reader = Reader(trust, args.now or int(time.time()), args.skew, args.cert_quorum)
        try:
            with natsmini.Connection(args.servers, name="gpurent-subscribe-py") as nc:
                js = natsmini.JetStream(nc)
                read = js.pull if args.consumer == "pull" else js.push
                for m in read(args.stream, start_seq=start):
                    print(reader.handle(m.seq, m.subject, m.data))
        except (natsmini.NatsError, TimeoutError, OSError) as e:
            print(f"subscribe: {e}", file=sys.stderr)
            return 1
        print(reader.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
