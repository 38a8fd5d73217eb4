package xcheck

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"math/big"
	"sort"
)

const (
	recEnvelope   = 9
	recRevocation = 8
	context       = "libgpurent envelope v1"
)

var defaultRole = map[uint64]uint32{1: 1, 2: 1, 4: 1, 3: 16, 5: 2, 6: 2, 7: 4, 8: 8}

// groupOrder is L, the order of the Ed25519 base point.
var groupOrder, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
var fieldP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// The small-order encodings libsodium refuses (compared with the sign bit cleared).
var smallOrder = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}

func le(b []byte) *big.Int {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(r)
}

func isSmallOrder(enc []byte) bool {
	c := append([]byte{}, enc...)
	c[31] &= 0x7f
	for _, h := range smallOrder {
		if hexString(c) == h {
			return true
		}
	}
	return false
}

// strictVerify is libsodium's rule as docs/wire-format.md states it: the
// standard library's check plus S < L, R and A not of small order, A canonical.
func strictVerify(pk, msg, sig []byte) bool {
	if len(pk) != 32 || len(sig) != 64 {
		return false
	}
	if le(sig[32:]).Cmp(groupOrder) >= 0 || isSmallOrder(sig[:32]) || isSmallOrder(pk) {
		return false
	}
	y := le(pk)
	y.SetBit(y, 255, 0)
	if y.Cmp(fieldP) >= 0 {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(pk), msg, sig)
}

func pae(statement uint64, body []byte) []byte {
	var b bytes.Buffer
	le64 := func(v uint64) {
		var x [8]byte
		binary.LittleEndian.PutUint64(x[:], v)
		b.Write(x[:])
	}
	le64(3)
	le64(uint64(len(context)))
	b.WriteString(context)
	le64(8)
	le64(statement)
	le64(uint64(len(body)))
	b.Write(body)
	return b.Bytes()
}

type header struct {
	statement, issued, expires uint64
	nonce, subject, payload    []byte
}

func writeBody(w *writer, issuer []byte, h header, entries int) {
	w.mapHeader(entries)
	w.uint(0)
	w.uint(recEnvelope)
	w.uint(1)
	w.uint(h.statement)
	w.uint(2)
	w.bin(issuer)
	w.uint(3)
	w.uint(h.issued)
	w.uint(4)
	w.uint(h.expires)
	w.uint(5)
	w.bin(h.nonce)
	w.uint(6)
	w.bin(h.subject)
	w.uint(7)
	w.bin(h.payload)
}

func pubOf(seed []byte) []byte {
	return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
}

// signEnvelope signs h with every seed (the first is the issuer).
func signEnvelope(seeds [][]byte, h header) []byte {
	issuer := pubOf(seeds[0])
	var body writer
	writeBody(&body, issuer, h, 8)
	msg := pae(h.statement, body.b.Bytes())
	type ks struct{ k, s []byte }
	var sigs []ks
	for _, s := range seeds {
		sigs = append(sigs, ks{pubOf(s), ed25519.Sign(ed25519.NewKeyFromSeed(s), msg)})
	}
	sort.Slice(sigs, func(i, j int) bool { return bytes.Compare(sigs[i].k, sigs[j].k) < 0 })
	var w writer
	writeBody(&w, issuer, h, 9)
	w.uint(8)
	w.arrayHeader(len(sigs))
	for _, e := range sigs {
		w.mapHeader(2)
		w.uint(1)
		w.bin(e.k)
		w.uint(2)
		w.bin(e.s)
	}
	return w.b.Bytes()
}

type sigEntry struct{ key, sig []byte }

type envelope struct {
	header
	issuer []byte
	sigs   []sigEntry
	body   []byte
}

func field(m Map, i int) (interface{}, bool) {
	if i >= len(m) || m[i].k != uint64(i) {
		return nil, false
	}
	return m[i].v, true
}

// parse checks an envelope's structure as docs/wire-format.md describes it.
func parse(p []byte) (*envelope, bool) {
	v, err := decodeCanonical(p)
	m, ok := v.(Map)
	if err != nil || !ok || len(m) != 9 {
		return nil, false
	}
	var f [9]interface{}
	for i := range f {
		if f[i], ok = field(m, i); !ok {
			return nil, false
		}
	}
	e := &envelope{}
	var ok1, ok2, ok3, ok4, ok5, ok6, ok7, ok8 bool
	var typ uint64
	typ, ok8 = f[0].(uint64)
	e.statement, ok1 = f[1].(uint64)
	e.issuer, ok2 = f[2].([]byte)
	e.issued, ok3 = f[3].(uint64)
	e.expires, ok4 = f[4].(uint64)
	e.nonce, ok5 = f[5].([]byte)
	e.subject, ok6 = f[6].([]byte)
	e.payload, ok7 = f[7].([]byte)
	sigs, ok9 := f[8].([]interface{})
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8 && ok9) || typ != recEnvelope {
		return nil, false
	}
	if e.statement == 0 || e.statement == recEnvelope || e.statement > 0xffffffff || len(e.issuer) != 32 ||
		len(e.nonce) != 16 || bytes.Equal(e.nonce, make([]byte, 16)) || len(e.subject) > 128 ||
		e.issued >= e.expires || e.expires > 1<<40 {
		return nil, false
	}
	pv, err := decodeCanonical(e.payload)
	pm, ok := pv.(Map)
	if err != nil || !ok || len(pm) == 0 || pm[0].k != uint64(0) || pm[0].v != e.statement {
		return nil, false
	}
	if len(sigs) == 0 || len(sigs) > 32 {
		return nil, false
	}
	issuerSigned := false
	for i, s := range sigs {
		sm, ok := s.(Map)
		if !ok || len(sm) != 2 || sm[0].k != uint64(1) || sm[1].k != uint64(2) {
			return nil, false
		}
		k, ok1 := sm[0].v.([]byte)
		g, ok2 := sm[1].v.([]byte)
		if !ok1 || !ok2 || len(k) != 32 || len(g) != 64 {
			return nil, false
		}
		if i > 0 && bytes.Compare(e.sigs[i-1].key, k) >= 0 {
			return nil, false
		}
		issuerSigned = issuerSigned || bytes.Equal(k, e.issuer)
		e.sigs = append(e.sigs, sigEntry{k, g})
	}
	if !issuerSigned {
		return nil, false
	}
	var body writer
	writeBody(&body, e.issuer, e.header, 8)
	e.body = body.b.Bytes()
	return e, true
}

type trustEntry struct {
	roles               uint32
	notBefore, notAfter uint64
}

type trustStore struct {
	keys    map[string]trustEntry
	revoked map[string]bool
}

// verify returns the status name libgpurent should give ("WIRE" for any
// wire-level error), following the order of checks in docs/attest.md.
func verify(p []byte, t trustStore, now, skew uint64, quorum int, role uint32) string {
	e, ok := parse(p)
	if !ok {
		return "WIRE"
	}
	if e.issued > skew && e.issued-skew > now {
		return "GPURENT_E_NOT_YET_VALID"
	}
	if now > skew && now-skew > e.expires {
		return "GPURENT_E_EXPIRED"
	}
	if role == 0 {
		role = defaultRole[e.statement]
	}
	keyStatus := func(pk []byte) string {
		if t.revoked[string(pk)] {
			return "GPURENT_E_REVOKED"
		}
		k, ok := t.keys[string(pk)]
		switch {
		case !ok:
			return "GPURENT_E_UNKNOWN_ISSUER"
		case k.notBefore > skew && k.notBefore-skew > now:
			return "GPURENT_E_NOT_YET_VALID"
		case k.notAfter != 0 && now > skew && now-skew > k.notAfter:
			return "GPURENT_E_EXPIRED"
		case k.roles&role != role:
			return "GPURENT_E_ROLE_NOT_ALLOWED"
		}
		return "GPURENT_OK"
	}
	if s := keyStatus(e.issuer); s != "GPURENT_OK" {
		return s
	}
	msg := pae(e.statement, e.body)
	counted := 0
	for _, s := range e.sigs {
		if !strictVerify(s.key, msg, s.sig) {
			return "GPURENT_E_BAD_SIGNATURE"
		}
		if keyStatus(s.key) == "GPURENT_OK" {
			counted++
		}
	}
	if counted < quorum {
		return "GPURENT_E_QUORUM_NOT_MET"
	}
	return "GPURENT_OK"
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}
