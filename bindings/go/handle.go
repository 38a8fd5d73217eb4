package gpurent

import (
	"sync"

	"gpurent.dev/gpurent/capi"
)

// handle owns one C pointer for a handle type (SigningKey, TrustStore,
// Verified, VerifyBatch, Cancel, Market, TierEngine, Receipt): the one place where
// the rule "Close waits for calls in flight" is written.
//
// Every call holds mu for reading while it uses the pointer, so calls on a
// handle may run together and a call that uses another handle (a TrustStore
// passed to TierEngine.RecordSigned, a Cancel passed to VerifyMany) holds
// that one too. close takes mu for writing: it waits until no call is in
// flight, then frees the pointer once. A call that starts after close
// returns ErrInvalidArg ("... is closed"). Handles whose calls must not run
// together (Market, TierEngine) also take serial inside (useSerial).
//
// A call must not start another use of the same handle while it holds it
// (sync.RWMutex read locks are not reentrant once a Close is waiting).
type handle struct {
	mu     sync.RWMutex
	serial sync.Mutex
	p      uintptr
	what   string // "market", for the closed error; "" = "the handle"
}

// use runs f with the pointer, Close waiting until f returns.
func (h *handle) use(f func(uintptr) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.p == 0 {
		return h.closedError()
	}
	return f(h.p)
}

// useSerial is use with the calls on this handle serialized.
func (h *handle) useSerial(f func(uintptr) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.p == 0 {
		return h.closedError()
	}
	h.serial.Lock()
	defer h.serial.Unlock()
	return f(h.p)
}

// acquire is use split in two for calls that hold several handles: the
// pointer and the function that ends the use (call it exactly once).
func (h *handle) acquire() (uintptr, func(), error) {
	h.mu.RLock()
	if h.p == 0 {
		h.mu.RUnlock()
		return 0, nil, h.closedError()
	}
	return h.p, h.mu.RUnlock, nil
}

// close waits for the calls in flight, then frees the pointer once.
// Closing twice is harmless.
func (h *handle) close(free func(uintptr)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.p != 0 {
		free(h.p)
		h.p = 0
	}
}

func (h *handle) closedError() error {
	what := h.what
	if what == "" {
		what = "the handle"
	}
	return closedError(what)
}

func closedError(what string) error {
	s := int(capi.E_INVALID_ARG)
	return &Error{Status: s, Name: capi.Status_name(s), Message: capi.Strerror(s), Detail: what + " is closed"}
}
