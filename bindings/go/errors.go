package gpurent

import "gpurent.dev/gpurent/capi"

// Error is a failed libgpurent call: Status, Name, Message (the status's
// fixed message) and Detail (what was wrong and where, read in the C wrapper
// on the thread that failed). Match it with errors.Is and the sentinels
// below, or errors.As to read the detail.
type Error = capi.Error

func sentinel(status capi.Enum_SS_gpurent_status) *Error {
	s := int(status)
	return &Error{Status: s, Name: capi.Status_name(s), Message: capi.Strerror(s)}
}

// Sentinels, one per status in include/gpurent/status.h: errors.Is(err,
// ErrX) holds when err is a failure with that status, whatever its detail.
// tests/check_bindings.sh fails when a status has no sentinel here.
var (
	// core
	ErrInvalidArg  = sentinel(capi.E_INVALID_ARG)
	ErrNoMem       = sentinel(capi.E_NOMEM)
	ErrVersion     = sentinel(capi.E_VERSION)
	ErrCancelled   = sentinel(capi.E_CANCELLED)
	ErrInternal    = sentinel(capi.E_INTERNAL)
	ErrIO          = sentinel(capi.E_IO)
	ErrLimit       = sentinel(capi.E_LIMIT)
	ErrUnsupported = sentinel(capi.E_UNSUPPORTED)
	ErrNotFound    = sentinel(capi.E_NOT_FOUND)
	ErrExists      = sentinel(capi.E_EXISTS)
	ErrTimeout     = sentinel(capi.E_TIMEOUT)
	ErrInit        = sentinel(capi.E_INIT)

	// snapshots
	ErrSnapshotCorrupt   = sentinel(capi.E_SNAPSHOT_CORRUPT)
	ErrSnapshotTruncated = sentinel(capi.E_SNAPSHOT_TRUNCATED)
	ErrSnapshotKind      = sentinel(capi.E_SNAPSHOT_KIND)
	ErrSnapshotVersion   = sentinel(capi.E_SNAPSHOT_VERSION)
	ErrSnapshotParams    = sentinel(capi.E_SNAPSHOT_PARAMS)

	// wire
	ErrMalformed    = sentinel(capi.E_MALFORMED)
	ErrTruncated    = sentinel(capi.E_TRUNCATED)
	ErrNonCanonical = sentinel(capi.E_NONCANONICAL)
	ErrOversize     = sentinel(capi.E_OVERSIZE)
	ErrInvalidField = sentinel(capi.E_INVALID_FIELD)
	ErrWrongRecord  = sentinel(capi.E_WRONG_RECORD)

	// attest
	ErrBadSignature    = sentinel(capi.E_BAD_SIGNATURE)
	ErrExpired         = sentinel(capi.E_EXPIRED)
	ErrNotYetValid     = sentinel(capi.E_NOT_YET_VALID)
	ErrUnknownIssuer   = sentinel(capi.E_UNKNOWN_ISSUER)
	ErrRoleNotAllowed  = sentinel(capi.E_ROLE_NOT_ALLOWED)
	ErrRevoked         = sentinel(capi.E_REVOKED)
	ErrReplayed        = sentinel(capi.E_REPLAYED)
	ErrQuorumNotMet    = sentinel(capi.E_QUORUM_NOT_MET)
	ErrWrongPassphrase = sentinel(capi.E_WRONG_PASSPHRASE)
	ErrKeyfileDamaged  = sentinel(capi.E_KEYFILE_DAMAGED)
	ErrKeyMismatch     = sentinel(capi.E_KEY_MISMATCH)

	// probe
	ErrNoDriver         = sentinel(capi.E_NO_DRIVER)
	ErrStubDriver       = sentinel(capi.E_STUB_DRIVER)
	ErrDriverTooOld     = sentinel(capi.E_DRIVER_TOO_OLD)
	ErrDriverFailed     = sentinel(capi.E_DRIVER_FAILED)
	ErrDriverTimeout    = sentinel(capi.E_DRIVER_TIMEOUT)
	ErrBenchUnavailable = sentinel(capi.E_BENCH_UNAVAILABLE)
	ErrNoDevice         = sentinel(capi.E_NO_DEVICE)
	ErrDeviceFailed     = sentinel(capi.E_DEVICE_FAILED)

	// tier
	ErrUnknownProvider  = sentinel(capi.E_UNKNOWN_PROVIDER)
	ErrEvidenceRejected = sentinel(capi.E_EVIDENCE_REJECTED)
	ErrCertMismatch     = sentinel(capi.E_CERT_MISMATCH)

	// match
	ErrInfeasible     = sentinel(capi.E_INFEASIBLE)
	ErrUnknownOffer   = sentinel(capi.E_UNKNOWN_OFFER)
	ErrUnknownRequest = sentinel(capi.E_UNKNOWN_REQUEST)
	ErrCapacity       = sentinel(capi.E_CAPACITY)
	ErrGPUConflict    = sentinel(capi.E_GPU_CONFLICT)
)
