// Package gpurent is the Go binding of libgpurent, the engine room of a
// decentralized GPU rental market: canonical wire records today, signed
// attestations, GPU probing, trust tiers and matchmaking as those modules
// land.
//
// The package is a thin, idiomatic layer over package gpurent/capi, which
// SWIG generates from bindings/gpurent.i. Calls return (value, error); a
// failed call's error is a *Error built inside the C wrapper, on the OS
// thread that failed, and errors.Is matches it against the sentinels in
// errors.go (errors.Is(err, gpurent.ErrNonCanonical)). Handles have Close()
// and a finalizer as a safety net. Records are plain Go structs converted to
// and from the C structs on each call.
//
// Build: cgo finds the library through pkg-config (`pkg-config gpurent`):
// either the installed one or, inside the source tree, the uninstalled .pc
// that `make check-go` writes to build/bindings/pkgconfig.
package gpurent

import "gpurent.dev/gpurent/capi"

// Version numbers of the headers this package was generated from.
const (
	VersionMajor = 0
	VersionMinor = 4
)

// Init initialises the library (idempotent, thread-safe). Other calls
// initialise on first use too; Init only tells early whether that can work.
func Init() error { return capi.Init() }

// VersionNumber is the run-time library version, MAJOR*10000+MINOR*100+PATCH.
func VersionNumber() uint { return capi.Version_number() }

// VersionString is the run-time library version as "MAJOR.MINOR.PATCH".
func VersionString() string { return capi.Version_string() }

// Strerror is the fixed message of a status code.
func Strerror(status int) string { return capi.Strerror(status) }

// StatusName is the symbolic name of a status code ("GPURENT_E_LIMIT").
func StatusName(status int) string { return capi.Status_name(status) }

// LastErrorMessage is the detail of the last failure on the calling OS
// thread. Goroutines move between threads, so prefer the Detail of the
// *Error a call returned; this is here for completeness and for tests that
// lock the goroutine to its thread.
func LastErrorMessage() string { return capi.Last_error_message() }

// LastErrorStatus is the status of the last failure on the calling OS thread
// (see LastErrorMessage).
func LastErrorStatus() int { return capi.Last_error_status() }

// ErrorClear forgets the calling OS thread's last failure.
func ErrorClear() { capi.Error_clear() }

// flag is a Go bool as the C library's 0/1 uint32_t flag.
func flag(b bool) uint {
	if b {
		return 1
	}
	return 0
}

// enumName is names[v], "unknown" when v is past the table or its name is
// "" (names of the
// enums the C library has no name function for).
func enumName[E ~uint32 | ~int](v E, names []string) string {
	if v < 0 || int64(v) >= int64(len(names)) || names[v] == "" {
		return "unknown"
	}
	return names[v]
}
