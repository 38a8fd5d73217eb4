package gpurent

import (
	"runtime"

	"gpurent.dev/gpurent/capi"
)

// Save returns the market's whole state (policy, seed, offers, requests,
// leases) as a snapshot recording inputSeq (docs/snapshots.md). A market
// loaded from it gives byte-identical receipts, explanations and digests.
func (m *Market) Save(inputSeq uint64) ([]byte, error) {
	var out []byte
	err := m.with(func(c capi.Market) error { return capi.Market_save(c, inputSeq, &out) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SaveFile writes Save's bytes to path crash-safely (a temporary file in
// the same folder, fsync, rename, folder fsync).
func (m *Market) SaveFile(path string, inputSeq uint64) error {
	return m.with(func(c capi.Market) error { return capi.Market_save_file(c, inputSeq, path) })
}

func adoptMarket(p uintptr) *Market {
	m := &Market{h: handle{p: p, what: "market"}}
	runtime.SetFinalizer(m, (*Market).Close)
	return m
}

// LoadMarket rebuilds a market from Save's bytes and returns the input
// sequence it recorded. Nothing is trusted: ErrSnapshotCorrupt,
// ErrSnapshotTruncated, ErrSnapshotKind, ErrSnapshotVersion, or
// ErrSnapshotParams (expect non-nil and the snapshot's policy differs),
// and nothing is loaded.
func LoadMarket(data []byte, expect *MatchOptions) (*Market, uint64, error) {
	var p uintptr
	var seq uint64
	var err error
	if expect == nil {
		err = capi.Market_load(&p, data, capi.SwigcptrMatch_options(0), &seq)
	} else {
		err = expect.withC(func(c capi.Match_options) error { return capi.Market_load(&p, data, c, &seq) })
	}
	if err != nil {
		return nil, 0, err
	}
	return adoptMarket(p), seq, nil
}

// LoadMarketFile is LoadMarket on the file at path (ErrIO when unreadable).
func LoadMarketFile(path string, expect *MatchOptions) (*Market, uint64, error) {
	var p uintptr
	var seq uint64
	var err error
	if expect == nil {
		err = capi.Market_load_file(&p, path, capi.SwigcptrMatch_options(0), &seq)
	} else {
		err = expect.withC(func(c capi.Match_options) error { return capi.Market_load_file(&p, path, c, &seq) })
	}
	if err != nil {
		return nil, 0, err
	}
	return adoptMarket(p), seq, nil
}
