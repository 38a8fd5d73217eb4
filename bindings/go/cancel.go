package gpurent

import (
	"runtime"
	"sync"

	"gpurent/capi"
)

// Cancel is a cancel token for long calls: Request() makes every call
// watching it stop soon with ErrCancelled. Safe for concurrent use. Close it
// when done; a finalizer frees a forgotten one.
type Cancel struct {
	mu sync.RWMutex
	p  uintptr
}

// NewCancel creates a token that is not set.
func NewCancel() (*Cancel, error) {
	var p uintptr
	if err := capi.Cancel_new(&p); err != nil {
		return nil, err
	}
	c := &Cancel{p: p}
	runtime.SetFinalizer(c, (*Cancel).Close)
	return c, nil
}

func (c *Cancel) ptr() capi.Cancel { return capi.SwigcptrCancel(c.p) }

// Request sets the token.
func (c *Cancel) Request() {
	c.mu.RLock()
	defer c.mu.RUnlock()
	capi.Cancel_request(c.ptr())
}

// Requested reports whether the token is set. A closed token reads as not set.
func (c *Cancel) Requested() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return capi.Cancel_requested(c.ptr()) != 0
}

// Reset unsets the token so it can be reused.
func (c *Cancel) Reset() {
	c.mu.RLock()
	defer c.mu.RUnlock()
	capi.Cancel_reset(c.ptr())
}

// Close frees the token; no call may still be watching it. Closing twice is
// harmless.
func (c *Cancel) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.p != 0 {
		capi.Cancel_free(c.ptr())
		c.p = 0
	}
	runtime.SetFinalizer(c, nil)
	return nil
}
