// Package xcheck re-implements libgpurent's signed envelopes from
// docs/wire-format.md with Go's standard library only (crypto/ed25519) and
// a small canonical MessagePack reader/writer written here, to cross-check
// the C library with an implementation that shares none of its code.
package xcheck

import (
	"bytes"
	"errors"
	"fmt"
)

// ---- writer: always the shortest form ----

type writer struct{ b bytes.Buffer }

func (w *writer) uint(v uint64) {
	switch {
	case v < 0x80:
		w.b.WriteByte(byte(v))
	case v < 0x100:
		w.b.Write([]byte{0xcc, byte(v)})
	case v < 0x10000:
		w.b.Write([]byte{0xcd, byte(v >> 8), byte(v)})
	case v < 0x100000000:
		w.b.Write([]byte{0xce, byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	default:
		w.b.WriteByte(0xcf)
		for i := 7; i >= 0; i-- {
			w.b.WriteByte(byte(v >> (8 * i)))
		}
	}
}

func (w *writer) header(n int, fix, fixMax byte, tag16 byte) {
	switch {
	case n <= int(fixMax):
		w.b.WriteByte(fix | byte(n))
	case n < 0x10000:
		w.b.Write([]byte{tag16, byte(n >> 8), byte(n)})
	default:
		w.b.Write([]byte{tag16 + 1, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	}
}

func (w *writer) mapHeader(n int)   { w.header(n, 0x80, 15, 0xde) }
func (w *writer) arrayHeader(n int) { w.header(n, 0x90, 15, 0xdc) }

func (w *writer) bin(p []byte) {
	n := len(p)
	switch {
	case n < 0x100:
		w.b.Write([]byte{0xc4, byte(n)})
	case n < 0x10000:
		w.b.Write([]byte{0xc5, byte(n >> 8), byte(n)})
	default:
		w.b.Write([]byte{0xc6, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	}
	w.b.Write(p)
}

func (w *writer) str(s string) {
	n := len(s)
	switch {
	case n < 32:
		w.b.WriteByte(0xa0 | byte(n))
	case n < 0x100:
		w.b.Write([]byte{0xd9, byte(n)})
	case n < 0x10000:
		w.b.Write([]byte{0xda, byte(n >> 8), byte(n)})
	default:
		w.b.Write([]byte{0xdb, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	}
	w.b.WriteString(s)
}

// ---- reader: decodes the subset into generic values ----

type pair struct{ k, v interface{} }

// Map keeps its entries in wire order.
type Map []pair

var errWire = errors.New("wire error")

type reader struct {
	p   []byte
	off int
}

func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || len(r.p)-r.off < n {
		return nil, fmt.Errorf("%w: truncated", errWire)
	}
	b := r.p[r.off : r.off+n]
	r.off += n
	return b, nil
}

func be(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

func (r *reader) value(depth int) (interface{}, error) {
	if depth > 16 {
		return nil, fmt.Errorf("%w: too deep", errWire)
	}
	t, err := r.take(1)
	if err != nil {
		return nil, err
	}
	tag := t[0]
	sized := func(n int) (uint64, error) {
		b, err := r.take(n)
		if err != nil {
			return 0, err
		}
		return be(b), nil
	}
	var n uint64
	switch {
	case tag <= 0x7f:
		return uint64(tag), nil
	case tag >= 0xcc && tag <= 0xcf:
		return sized(1 << (tag - 0xcc))
	case tag&0xf0 == 0x80, tag == 0xde, tag == 0xdf:
		if tag&0xf0 == 0x80 {
			n = uint64(tag & 0x0f)
		} else if n, err = sized(2 << (tag - 0xde)); err != nil {
			return nil, err
		}
		if n > uint64(len(r.p)-r.off) {
			return nil, fmt.Errorf("%w: map count", errWire)
		}
		m := Map{}
		for i := uint64(0); i < n; i++ {
			k, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			m = append(m, pair{k, v})
		}
		return m, nil
	case tag&0xf0 == 0x90, tag == 0xdc, tag == 0xdd:
		if tag&0xf0 == 0x90 {
			n = uint64(tag & 0x0f)
		} else if n, err = sized(2 << (tag - 0xdc)); err != nil {
			return nil, err
		}
		if n > uint64(len(r.p)-r.off) {
			return nil, fmt.Errorf("%w: array count", errWire)
		}
		a := []interface{}{}
		for i := uint64(0); i < n; i++ {
			v, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		return a, nil
	case tag >= 0xc4 && tag <= 0xc6:
		if n, err = sized(1 << (tag - 0xc4)); err != nil {
			return nil, err
		}
		b, err := r.take(int(n))
		return append([]byte{}, b...), err
	case tag&0xe0 == 0xa0, tag >= 0xd9 && tag <= 0xdb:
		if tag&0xe0 == 0xa0 {
			n = uint64(tag & 0x1f)
		} else if n, err = sized(1 << (tag - 0xd9)); err != nil {
			return nil, err
		}
		b, err := r.take(int(n))
		return string(b), err
	case tag == 0xc2, tag == 0xc3:
		return tag == 0xc3, nil
	case tag == 0xc0:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: tag 0x%02x not in the canonical subset", errWire, tag)
}

func (w *writer) value(v interface{}) {
	switch x := v.(type) {
	case uint64:
		w.uint(x)
	case Map:
		w.mapHeader(len(x))
		for _, p := range x {
			w.value(p.k)
			w.value(p.v)
		}
	case []interface{}:
		w.arrayHeader(len(x))
		for _, e := range x {
			w.value(e)
		}
	case []byte:
		w.bin(x)
	case string:
		w.str(x)
	case bool:
		if x {
			w.b.WriteByte(0xc3)
		} else {
			w.b.WriteByte(0xc2)
		}
	case nil:
		w.b.WriteByte(0xc0)
	}
}

// decodeCanonical decodes exactly one value and insists that re-encoding it
// gives the same bytes (shortest forms), with map keys in ascending byte order.
func decodeCanonical(p []byte) (interface{}, error) {
	r := reader{p: p}
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	if r.off != len(p) {
		return nil, fmt.Errorf("%w: trailing bytes", errWire)
	}
	var w writer
	w.value(v)
	if !bytes.Equal(w.b.Bytes(), p) {
		return nil, fmt.Errorf("%w: not canonical", errWire)
	}
	if !keysSorted(v) {
		return nil, fmt.Errorf("%w: map keys not ascending", errWire)
	}
	return v, nil
}

func keysSorted(v interface{}) bool {
	switch x := v.(type) {
	case Map:
		var prev []byte
		for i, p := range x {
			var w writer
			w.value(p.k)
			if i > 0 && bytes.Compare(prev, w.b.Bytes()) >= 0 {
				return false
			}
			prev = w.b.Bytes()
			if !keysSorted(p.v) {
				return false
			}
		}
	case []interface{}:
		for _, e := range x {
			if !keysSorted(e) {
				return false
			}
		}
	}
	return true
}
