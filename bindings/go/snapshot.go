package gpurent

import (
	"runtime"

	"gpurent.dev/gpurent/capi"
)

// Snapshots (docs/snapshots.md): an engine's whole state as bytes or a
// file, with the sequence number of the last input of the embedder's
// ordered log it reflects, so a restart loads the snapshot and replays only
// the log after it. Loading trusts nothing: a damaged, truncated, foreign,
// newer or other-parameters snapshot fails with ErrSnapshotCorrupt,
// ErrSnapshotTruncated, ErrSnapshotKind, ErrSnapshotVersion or
// ErrSnapshotParams and loads nothing.

// Save returns the engine's state as a snapshot recording inputSeq. An
// engine loaded from it gives byte-identical certificates and explanations.
func (e *TierEngine) Save(inputSeq uint64) ([]byte, error) {
	var out []byte
	err := e.with(func(c capi.Tier_engine) error { return capi.Tier_save(c, inputSeq, &out) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SaveFile writes Save's bytes to path crash-safely (a temporary file in
// the same folder, mode 0600, fsync, rename, folder fsync).
func (e *TierEngine) SaveFile(path string, inputSeq uint64) error {
	return e.with(func(c capi.Tier_engine) error { return capi.Tier_save_file(c, inputSeq, path) })
}

func adoptTierEngine(p uintptr) *TierEngine {
	e := &TierEngine{h: handle{p: p, what: "tier engine"}}
	runtime.SetFinalizer(e, (*TierEngine).Close)
	return e
}

// LoadTierEngine rebuilds an engine from Save's bytes and returns the
// input sequence it recorded. With expect non-nil the snapshot must have
// been taken with the same parameters (ErrSnapshotParams otherwise).
func LoadTierEngine(data []byte, expect *TierOptions) (*TierEngine, uint64, error) {
	var p uintptr
	var seq uint64
	var err error
	if expect == nil {
		err = capi.Tier_load(&p, data, capi.SwigcptrTier_options(0), &seq)
	} else {
		err = expect.withC(func(c capi.Tier_options) error { return capi.Tier_load(&p, data, c, &seq) })
	}
	if err != nil {
		return nil, 0, err
	}
	return adoptTierEngine(p), seq, nil
}

// LoadTierEngineFile is LoadTierEngine on the file at path (ErrIO when unreadable).
func LoadTierEngineFile(path string, expect *TierOptions) (*TierEngine, uint64, error) {
	var p uintptr
	var seq uint64
	var err error
	if expect == nil {
		err = capi.Tier_load_file(&p, path, capi.SwigcptrTier_options(0), &seq)
	} else {
		err = expect.withC(func(c capi.Tier_options) error { return capi.Tier_load_file(&p, path, c, &seq) })
	}
	if err != nil {
		return nil, 0, err
	}
	return adoptTierEngine(p), seq, nil
}

// Save returns the store (keys, revocations, replay window) as a snapshot
// recording inputSeq. A store loaded from it refuses the same replays.
func (t *TrustStore) Save(inputSeq uint64) ([]byte, error) {
	var out []byte
	err := t.h.use(func(p uintptr) error { return capi.Trust_save(t.ptr(p), inputSeq, &out) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SaveFile writes Save's bytes to path crash-safely (mode 0600).
func (t *TrustStore) SaveFile(path string, inputSeq uint64) error {
	return t.h.use(func(p uintptr) error { return capi.Trust_save_file(t.ptr(p), inputSeq, path) })
}

func trustExpect(replayCapacity uint32, f func(capi.Trust_options) error) error {
	if replayCapacity == 0 {
		return f(capi.SwigcptrTrust_options(0))
	}
	o := capi.NewTrust_options()
	defer capi.DeleteTrust_options(o)
	if err := capi.Trust_options_init(o, uint(capi.TRUST_OPTIONS_VERSION)); err != nil {
		return err
	}
	o.SetReplay_capacity(uint(replayCapacity))
	return f(o)
}

func adoptTrustStore(p uintptr) *TrustStore {
	t := &TrustStore{h: handle{p: p}}
	runtime.SetFinalizer(t, (*TrustStore).Close)
	return t
}

// LoadTrustStore rebuilds a store from Save's bytes and returns its input
// sequence; replayCapacity non-zero requires the snapshot to have it.
func LoadTrustStore(data []byte, replayCapacity uint32) (*TrustStore, uint64, error) {
	var p uintptr
	var seq uint64
	err := trustExpect(replayCapacity, func(o capi.Trust_options) error { return capi.Trust_load(&p, data, o, &seq) })
	if err != nil {
		return nil, 0, err
	}
	return adoptTrustStore(p), seq, nil
}

// LoadTrustStoreFile is LoadTrustStore on the file at path.
func LoadTrustStoreFile(path string, replayCapacity uint32) (*TrustStore, uint64, error) {
	var p uintptr
	var seq uint64
	err := trustExpect(replayCapacity, func(o capi.Trust_options) error { return capi.Trust_load_file(&p, path, o, &seq) })
	if err != nil {
		return nil, 0, err
	}
	return adoptTrustStore(p), seq, nil
}
