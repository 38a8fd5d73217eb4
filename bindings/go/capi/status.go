package capi

import (
	"strconv"
	"strings"
)

// Error is a failed libgpurent call: its status and the detail of the
// failure, both read inside the C wrapper on the OS thread that made the
// call (Go may move the goroutine to another thread right after).
type Error struct {
	Status  int    // the negative gpurent_status, e.g. -102
	Name    string // the status's symbolic name, e.g. "GPURENT_E_NONCANONICAL"
	Message string // the fixed message of the status (gpurent_strerror)
	Detail  string // what was wrong and where (gpurent_last_error_message)
}

// Error formats the status name, its message and the detail.
func (e *Error) Error() string {
	s := "gpurent: " + e.Name
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is reports whether target is an *Error with the same status, so that
// errors.Is(err, gpurent.ErrNonCanonical) matches every non-canonical failure
// whatever its detail.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status
}

// newStatusError parses "code\x1fname\x1fmessage\x1fdetail", the string the
// C wrapper builds for a failed call (see bindings/lang_go.i).
func newStatusError(s string) error {
	parts := strings.SplitN(s, "\x1f", 4)
	for len(parts) < 4 {
		parts = append(parts, "")
	}
	code, err := strconv.Atoi(parts[0])
	if err != nil {
		code = -5 // GPURENT_E_INTERNAL: the wrapper always writes a number
	}
	return &Error{Status: code, Name: parts[1], Message: parts[2], Detail: parts[3]}
}
