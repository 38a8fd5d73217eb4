package gpurent

import (
	"runtime"

	"gpurent.dev/gpurent/capi"
)

// Cancel is a cancel token for long calls: Request() makes every call
// watching it stop soon with ErrCancelled. Safe for concurrent use. Close it
// when done (Close waits for the calls watching it); a finalizer frees a
// forgotten one. A long call given a closed token returns ErrInvalidArg.
type Cancel struct{ h handle }

// NewCancel creates a token that is not set.
func NewCancel() (*Cancel, error) {
	var p uintptr
	if err := capi.Cancel_new(&p); err != nil {
		return nil, err
	}
	c := &Cancel{h: handle{p: p, what: "cancel token"}}
	runtime.SetFinalizer(c, (*Cancel).Close)
	return c, nil
}

// Request sets the token (nothing on a closed token).
func (c *Cancel) Request() {
	_ = c.h.use(func(p uintptr) error { capi.Cancel_request(capi.SwigcptrCancel(p)); return nil })
}

// Requested reports whether the token is set. A closed token reads as not set.
func (c *Cancel) Requested() bool {
	r := false
	_ = c.h.use(func(p uintptr) error { r = capi.Cancel_requested(capi.SwigcptrCancel(p)) != 0; return nil })
	return r
}

// Reset unsets the token so it can be reused.
func (c *Cancel) Reset() {
	_ = c.h.use(func(p uintptr) error { capi.Cancel_reset(capi.SwigcptrCancel(p)); return nil })
}

// Close frees the token once no call is watching it. Closing twice is
// harmless.
func (c *Cancel) Close() error {
	c.h.close(func(p uintptr) { capi.Cancel_free(capi.SwigcptrCancel(p)) })
	runtime.SetFinalizer(c, nil)
	return nil
}
