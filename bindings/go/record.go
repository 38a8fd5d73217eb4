package gpurent

// The Validate/Encode/Decode calls of the records share one shape: fill a
// temporary C struct, call the C function, convert back. These helpers are
// that shape once; each record names only its C type's functions.

// encodeRecord fills a C copy of a record (withC) and returns what C's
// encoder writes for it (it validates first).
func encodeRecord[C any](withC func(func(C) error) error, encode func(C, *[]byte) error) ([]byte, error) {
	var out []byte
	if err := withC(func(c C) error { return encode(c, &out) }); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeRecord decodes untrusted bytes into a fresh C struct (newC,
// deleteC: the binding's constructor and destructor) and converts the
// result; on failure it returns T's zero value and C's error.
func decodeRecord[C, T any](data []byte, newC func() C, deleteC func(C), decode func([]byte, C) error,
	fromC func(C) T) (T, error) {
	c := newC()
	defer deleteC(c)
	if err := decode(data, c); err != nil {
		var zero T
		return zero, err
	}
	return fromC(c), nil
}
