"""Exceptions raised by libgpurent calls.

Every failed call raises an instance of a subclass of :class:`Error`, built in
the C wrapper from the call's status and the per-thread detail that the
library wrote on the thread that failed. Catch :class:`Error` for any failure,
a group (:class:`WireError`, :class:`AttestError`, ...) for a module's
failures, or the class of one status (:class:`NonCanonicalError`).
"""
from __future__ import annotations

from typing import Dict, Type

from . import capi


class Error(Exception):
    """A libgpurent call failed.

    Attributes: ``status`` (the negative code), ``name`` ("GPURENT_E_LIMIT"),
    ``message`` (the status's fixed message) and ``detail`` (what was wrong and
    where, e.g. "offer.nodes[3].gpu_count: 4096 above the limit 64").
    """

    status: int = 0
    name: str = ""
    message: str = ""
    detail: str = ""

    def __init__(self, status: int, name: str, message: str, detail: str = "") -> None:
        super().__init__(status, name, message, detail)
        self.status, self.name, self.message, self.detail = status, name, message, detail

    def __str__(self) -> str:
        s = f"{self.name}: {self.message}"
        return f"{s}: {self.detail}" if self.detail else s


# ---- groups, one per block of status.h ----
class CoreError(Error):
    """Core failures (-1..-99)."""


class WireError(Error, ValueError):
    """Bytes or records refused by the wire module (-100..-199)."""


class AttestError(Error):
    """Signed statements refused (-200..-299)."""


class ProbeError(Error):
    """The CUDA driver could not be probed (-300..-399)."""


class TierError(Error):
    """Tier evidence and scoring (-400..-499)."""


class MatchError(Error):
    """Matchmaking (-500..-599)."""


# ---- one class per status ----
class InvalidArgError(CoreError, ValueError):
    """A NULL pointer or an out-of-range argument."""


class NoMemoryError(CoreError, MemoryError):
    """Memory allocation failed."""


class VersionError(CoreError):
    """An options struct of an unknown version."""


class CancelledError(CoreError):
    """The call's cancel token was set."""


class InternalError(CoreError):
    """A broken invariant inside the library (a bug)."""


class IOFailedError(CoreError, OSError):
    """Reading or writing a file failed."""


class LimitError(CoreError):
    """A size or count limit was exceeded."""


class UnsupportedError(CoreError):
    """The operation is not supported here."""


class NotFoundError(CoreError, LookupError):
    """No such item."""


class ExistsError(CoreError):
    """The item already exists."""


class TimedOutError(CoreError, TimeoutError):
    """A time limit expired."""


class InitError(CoreError):
    """Library initialisation failed."""


class SnapshotError(CoreError):
    """A snapshot was refused (base of the five snapshot errors)."""


class SnapshotCorruptError(SnapshotError):
    """A snapshot whose checksum or contents are wrong."""


class SnapshotTruncatedError(SnapshotError):
    """A snapshot shorter than its header says."""


class SnapshotKindError(SnapshotError):
    """A snapshot of another kind of engine."""


class SnapshotVersionError(SnapshotError):
    """A snapshot format newer than this library reads."""


class SnapshotParamsError(SnapshotError):
    """A snapshot taken with other engine parameters."""


class MalformedError(WireError):
    """Bytes that are not valid MessagePack."""


class TruncatedError(WireError):
    """Input ends inside a value."""


class NonCanonicalError(WireError):
    """Valid MessagePack, but not the one canonical form."""


class OversizeError(WireError):
    """A length, count or depth above its limit."""


class InvalidFieldError(WireError):
    """A field has the wrong type or a forbidden value."""


class FieldRangeError(InvalidFieldError):
    """A record field holds a number its C type cannot hold (a negative
    count, a value above 2**32-1 for a 32-bit field); raised before any C
    call, with the status of InvalidFieldError and a detail naming the field
    ("request.gpu_count: -1 is out of range for uint32_t (0..4294967295)")."""


class FieldTypeError(InvalidFieldError, TypeError):
    """A record field holds a value of the wrong type (a str or a float
    where an int goes); also a ``TypeError``. The detail names the field."""


class WrongRecordError(WireError):
    """A record of another type than the one asked for."""


class BadSignatureError(AttestError):
    """The signature does not verify."""


class ExpiredError(AttestError):
    """The statement has expired."""


class NotYetValidError(AttestError):
    """The statement is not valid yet."""


class UnknownIssuerError(AttestError):
    """The issuer's key is not in the trust store."""


class RoleNotAllowedError(AttestError):
    """The issuer may not make this kind of statement."""


class RevokedError(AttestError):
    """The issuer's key is revoked."""


class ReplayedError(AttestError):
    """The statement was seen before."""


class QuorumNotMetError(AttestError):
    """Too few distinct keys signed."""


class WrongPassphraseError(AttestError):
    """The key file's passphrase is wrong."""


class KeyfileDamagedError(AttestError):
    """The key file is damaged."""


class KeyMismatchError(AttestError):
    """The public key does not match the secret key."""


class NoDriverError(ProbeError):
    """libcuda could not be loaded."""


class StubDriverError(ProbeError):
    """The toolkit's stub libcuda was loaded (no real driver)."""


class DriverTooOldError(ProbeError):
    """A required driver entry point is missing."""


class DriverFailedError(ProbeError):
    """A driver call failed."""


class DriverTimeoutError(ProbeError):
    """The driver did not answer in time."""


class BenchUnavailableError(ProbeError):
    """The active check cannot run here."""


class NoDeviceError(ProbeError):
    """The driver works but lists no device."""


class DeviceFailedError(ProbeError):
    """A device call failed midway: the report is partial."""


class UnknownProviderError(TierError):
    """No such provider."""


class EvidenceRejectedError(TierError):
    """The evidence was refused."""


class CertMismatchError(TierError):
    """A recomputed tier certificate differs from the one presented."""


class InfeasibleError(MatchError):
    """No provider satisfies the request."""


class UnknownOfferError(MatchError):
    """No such offer."""


class UnknownRequestError(MatchError):
    """No such request."""


class CapacityError(MatchError):
    """Not enough free capacity."""


class GpuConflictError(MatchError):
    """A GPU (by UUID) is already offered by another node; the detail names the holder."""


#: Status code -> class. tests/check_bindings.sh fails when a status of
#: include/gpurent/status.h has no entry here.
STATUS_CLASSES: Dict[int, Type[Error]] = {
    capi.E_INVALID_ARG: InvalidArgError,
    capi.E_NOMEM: NoMemoryError,
    capi.E_VERSION: VersionError,
    capi.E_CANCELLED: CancelledError,
    capi.E_INTERNAL: InternalError,
    capi.E_IO: IOFailedError,
    capi.E_LIMIT: LimitError,
    capi.E_UNSUPPORTED: UnsupportedError,
    capi.E_NOT_FOUND: NotFoundError,
    capi.E_EXISTS: ExistsError,
    capi.E_TIMEOUT: TimedOutError,
    capi.E_INIT: InitError,
    capi.E_SNAPSHOT_CORRUPT: SnapshotCorruptError,
    capi.E_SNAPSHOT_TRUNCATED: SnapshotTruncatedError,
    capi.E_SNAPSHOT_KIND: SnapshotKindError,
    capi.E_SNAPSHOT_VERSION: SnapshotVersionError,
    capi.E_SNAPSHOT_PARAMS: SnapshotParamsError,
    capi.E_MALFORMED: MalformedError,
    capi.E_TRUNCATED: TruncatedError,
    capi.E_NONCANONICAL: NonCanonicalError,
    capi.E_OVERSIZE: OversizeError,
    capi.E_INVALID_FIELD: InvalidFieldError,
    capi.E_WRONG_RECORD: WrongRecordError,
    capi.E_BAD_SIGNATURE: BadSignatureError,
    capi.E_EXPIRED: ExpiredError,
    capi.E_NOT_YET_VALID: NotYetValidError,
    capi.E_UNKNOWN_ISSUER: UnknownIssuerError,
    capi.E_ROLE_NOT_ALLOWED: RoleNotAllowedError,
    capi.E_REVOKED: RevokedError,
    capi.E_REPLAYED: ReplayedError,
    capi.E_QUORUM_NOT_MET: QuorumNotMetError,
    capi.E_WRONG_PASSPHRASE: WrongPassphraseError,
    capi.E_KEYFILE_DAMAGED: KeyfileDamagedError,
    capi.E_KEY_MISMATCH: KeyMismatchError,
    capi.E_NO_DRIVER: NoDriverError,
    capi.E_STUB_DRIVER: StubDriverError,
    capi.E_DRIVER_TOO_OLD: DriverTooOldError,
    capi.E_DRIVER_FAILED: DriverFailedError,
    capi.E_DRIVER_TIMEOUT: DriverTimeoutError,
    capi.E_BENCH_UNAVAILABLE: BenchUnavailableError,
    capi.E_NO_DEVICE: NoDeviceError,
    capi.E_DEVICE_FAILED: DeviceFailedError,
    capi.E_UNKNOWN_PROVIDER: UnknownProviderError,
    capi.E_EVIDENCE_REJECTED: EvidenceRejectedError,
    capi.E_CERT_MISMATCH: CertMismatchError,
    capi.E_INFEASIBLE: InfeasibleError,
    capi.E_UNKNOWN_OFFER: UnknownOfferError,
    capi.E_UNKNOWN_REQUEST: UnknownRequestError,
    capi.E_CAPACITY: CapacityError,
    capi.E_GPU_CONFLICT: GpuConflictError,
}

_GROUPS = {1: WireError, 2: AttestError, 3: ProbeError, 4: TierError, 5: MatchError}


def class_for_status(status: int) -> Type[Error]:
    """The exception class for a status: its own, else its module's group."""
    cls = STATUS_CLASSES.get(status)
    if cls is not None:
        return cls
    return _GROUPS.get(-status // 100, CoreError if -100 < status < 0 else Error)


def _from_status(status: int, name: str, message: str, detail: str) -> Error:
    """Called by the C wrappers (bindings/lang_python.i) to build the exception."""
    return class_for_status(status)(status, name, message, detail)


__all__ = ["Error", "CoreError", "SnapshotError", "WireError", "AttestError", "ProbeError", "TierError", "MatchError",
           "STATUS_CLASSES", "class_for_status", "FieldRangeError", "FieldTypeError"] + sorted(c.__name__ for c in STATUS_CLASSES.values())
