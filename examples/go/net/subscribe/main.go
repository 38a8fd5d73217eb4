// Read the GPURENT stream from a given sequence, verify every envelope with
// libgpurent, print one line per record and the counts of what was verified
// and dropped, by reason. The same lines as examples/net/subscribe.py prints
// for the same stream (docs/net-clients.md).
//
// Run from examples/go after `make go`, with pkg-config finding libgpurent
// (installed, or PKG_CONFIG_PATH=../../build/bindings/pkgconfig):
//
//	go run ./net/subscribe -servers nats://127.0.0.1:4222 -trust trust.snap [-stream GPURENT] [-from-seq N]
//
// Without -from-seq it resumes after the sequence the trust snapshot names.
package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"gpurent.dev/gpurent"
)

type kindRule struct {
	statement gpurent.RecordType // 0: any
	role      gpurent.Role       // 0: the statement's default
}

// subject kind -> what its envelopes must be (NETSPEC's subjects)
var kinds = map[string]kindRule{
	"report":  {gpurent.RecordGPUReport, 0},
	"offer":   {gpurent.RecordOffer, 0},
	"request": {gpurent.RecordRequest, 0},
	"audit":   {gpurent.RecordAuditReport, 0},
	"cert":    {gpurent.RecordTierCert, 0},
	"receipt": {gpurent.RecordMatchReceipt, 0},
	"cut":     {0, gpurent.RoleMatcher},
	"era":     {0, gpurent.RoleAuditor}, // era cut markers on gpurent.era (docs/net.md)
}

// library error -> drop reason, first match wins (as in subscribe.py)
var reasons = []struct {
	err    error
	reason string
}{
	{gpurent.ErrBadSignature, "forged"},
	{gpurent.ErrReplayed, "replayed"},
	{gpurent.ErrUnknownIssuer, "unknown-signer"},
	{gpurent.ErrRevoked, "revoked"},
	{gpurent.ErrRoleNotAllowed, "wrong-role"},
	{gpurent.ErrExpired, "expired"},
	{gpurent.ErrNotYetValid, "not-yet-valid"},
	{gpurent.ErrQuorumNotMet, "quorum-not-met"},
	{gpurent.ErrWrongRecord, "wrong-type"},
}

// dropReason names why err refused an envelope: the first rule that matches,
// else "undecodable" for any wire-module status (-100..-199), else "rejected".
func dropReason(err error) string {
	for _, x := range reasons {
		if errors.Is(err, x.err) {
			return x.reason
		}
	}
	var e *gpurent.Error
	if errors.As(err, &e) && e.Status <= -100 && e.Status > -200 {
		return "undecodable"
	}
	return "rejected"
}

type reader struct {
	trust      *gpurent.TrustStore
	now        uint64
	skew       uint32
	certQuorum uint32
	verified   int
	dropped    map[string]int
}

func statusName(err error) string {
	var e *gpurent.Error
	if errors.As(err, &e) {
		return e.Name
	}
	return err.Error()
}

func (r *reader) drop(seq uint64, kind, reason, why string) string {
	r.dropped[reason]++
	return fmt.Sprintf("drop %d %s %s %s", seq, kind, reason, why)
}

// handle verifies one stream message and returns its line.
func (r *reader) handle(seq uint64, subject string, data []byte) string {
	parts := strings.Split(subject, ".")
	kind := "?"
	if parts[0] == "gpurent" && (len(parts) == 3 || (len(parts) == 2 && parts[1] == "era")) {
		kind = parts[1]
	}
	rule, ok := kinds[kind]
	if !ok {
		return r.drop(seq, kind, "unknown-subject", subject)
	}
	opts := &gpurent.VerifyOptions{Statement: rule.statement, RequiredRole: rule.role, Quorum: 1}
	if kind == "cert" {
		opts.Quorum = r.certQuorum
	}
	keyed := kind != "cut" && kind != "era" // the subject names a signer's key
	if keyed {
		// Checked before the replay cache sees the envelope: a copy filed under another name by
		// whoever held the bytes first must not make the author's own publication look like a replay.
		named, err := r.namesASigner(data, parts[2], opts)
		if err != nil {
			return r.drop(seq, kind, dropReason(err), statusName(err))
		}
		if !named {
			return r.drop(seq, kind, "wrong-subject", parts[2][:min(16, len(parts[2]))])
		}
	}
	v, err := r.trust.Verify(data, r.now, r.skew, opts)
	if err != nil {
		return r.drop(seq, kind, dropReason(err), statusName(err))
	}
	defer v.Close()
	signers, err := v.Signers()
	if err != nil {
		return r.drop(seq, kind, "rejected", statusName(err))
	}
	digest, err := v.Digest()
	if err != nil {
		return r.drop(seq, kind, "rejected", statusName(err))
	}
	r.verified++
	return fmt.Sprintf("ok %d %s %s %s", seq, kind, hex.EncodeToString(signers[0][:8]), hex.EncodeToString(digest[:8]))
}

// namesASigner reports whether the key named by the subject signed the envelope, without
// touching the replay cache: the header's issuer, else (a co-signed statement) the signers of a
// verification that does not record the nonce.
func (r *reader) namesASigner(data []byte, keyHex string, opts *gpurent.VerifyOptions) (bool, error) {
	h, err := gpurent.DecodeEnvelope(data)
	if err != nil {
		return false, err
	}
	if hex.EncodeToString(h.Issuer[:]) == keyHex {
		return true, nil
	}
	peek := *opts
	peek.NoReplay = true
	v, err := r.trust.Verify(data, r.now, r.skew, &peek)
	if err != nil {
		return false, err
	}
	defer v.Close()
	signers, err := v.Signers()
	if err != nil {
		return false, err
	}
	for _, s := range signers {
		if hex.EncodeToString(s[:]) == keyHex {
			return true, nil
		}
	}
	return false, nil
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func (r *reader) summary() string {
	total := 0
	names := make([]string, 0, len(r.dropped))
	for k, n := range r.dropped {
		total += n
		names = append(names, k)
	}
	sort.Strings(names)
	s := fmt.Sprintf("verified %d dropped %d", r.verified, total)
	for _, k := range names {
		s += fmt.Sprintf(" %s=%d", k, r.dropped[k])
	}
	return s
}

func run() int {
	servers := flag.String("servers", "", "NATS URLs, comma-separated (required)")
	stream := flag.String("stream", "GPURENT", "stream name")
	fromSeq := flag.Uint64("from-seq", 0, "first stream sequence to read (0: after the trust snapshot's sequence)")
	trustPath := flag.String("trust", "", "trust store snapshot file (required)")
	now := flag.Uint64("now", 0, "verification time, Unix seconds (0: now)")
	skew := flag.Uint("skew", 300, "clock skew allowed, seconds")
	certQuorum := flag.Uint("cert-quorum", 1, "distinct trusted auditors a certificate needs")
	flag.Parse()
	if *servers == "" || *trustPath == "" || *certQuorum < 1 || flag.NArg() != 0 {
		flag.Usage()
		return 2
	}
	if err := gpurent.Init(); err != nil {
		fmt.Fprintln(os.Stderr, "subscribe:", err)
		return 1
	}
	snap, err := os.ReadFile(*trustPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "subscribe:", err)
		return 1
	}
	trust, snapSeq, err := gpurent.LoadTrustStore(snap, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "subscribe:", err)
		return 1
	}
	defer trust.Close()
	start := *fromSeq
	if start == 0 {
		start = snapSeq + 1
	}
	r := &reader{trust: trust, now: *now, skew: uint32(*skew), certQuorum: uint32(*certQuorum), dropped: map[string]int{}}
	if r.now == 0 {
		r.now = uint64(time.Now().Unix())
	}
	nc, err := dial(*servers, 5*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "subscribe:", err)
		return 1
	}
	defer nc.close()
	err = nc.pullAll(*stream, start, func(m streamMsg) error {
		fmt.Println(r.handle(m.seq, m.subject, m.data))
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "subscribe:", err)
		return 1
	}
	fmt.Println(r.summary())
	return 0
}

func main() { os.Exit(run()) }
