"""libgpurent for Python: canonical wire records for a decentralized GPU
market today; signed attestations, GPU probing, trust tiers and matchmaking as
those modules land.

The package is a thin Pythonic layer over :mod:`gpurent.capi`, which SWIG
generates from bindings/gpurent.i (every public C function is there, with the
``gpurent_`` prefix removed). Failed calls raise a subclass of
:class:`gpurent.Error`; records are dataclasses that encode to and decode
from ``bytes``; handles are classes with ``close()`` and context managers.
"""
from __future__ import annotations

from . import capi
from ._handle import Handle
from .errors import *  # noqa: F401,F403  (the exception classes)
from .errors import Error, STATUS_CLASSES, class_for_status
from .wire import (  # noqa: F401
    GPU, Node, Offer, Request, RecordType, Interface, GangScope,
    check_canonical, record_type, record_type_name,
)
from .attest import (  # noqa: F401
    Role, RevocationReason, Envelope, Revocation, Key, Verified, TrustStore, VerifyBatch,
    statement_default_role, envelope_digest,
)
from .probe import (  # noqa: F401
    PVState, Verdict, PV, PVText, PVUUID, ProbeCheck, ProbeDevice, GpuReport, Peaks,
    probe, probe_isolated, probe_defaults, derive_peaks, probe_verdict, pv_state_name, verdict_name,
    CHECK_D2D, CHECK_H2D, CHECK_FMA, CHECK_ALL,
)
from .tier import (  # noqa: F401
    CheckResult, ChallengeKind, JobOutcome, EventKind, Rule, rule_name, Challenge, Job, AuditReport, TierCert,
    TierLevel, TierOptions, TierEvent, EraSummary, Slash, Component, TierExplanation, TierDisputes, TierEngine,
    verify_tier_certificate,
)
from .match import (  # noqa: F401
    Preset, Constraint, constraint_name, MatchOptions, Breakdown, Candidate, Miss, Relaxation, Explanation,
    Stats, Digests, GpuOwner, GPU_HELD_OFFER, GPU_HELD_REPORT, Placement, Assignment, Receipt, Market,
)
from .models import (  # noqa: F401
    NameKind, name_kind_name, Model, Framework, model_table_version, model_table_digest, models, model_find,
    model_lookup, model_family, model_find_pci, framework_table_version, framework_table_digest, frameworks,
    framework_find,
)

__all__ = [
    "capi", "Error", "STATUS_CLASSES", "class_for_status", "Handle",
    "init", "version_number", "version_string", "strerror", "status_name",
    "last_error_message", "last_error_status", "error_clear", "Cancel",
    "GPU", "Node", "Offer", "Request", "RecordType", "Interface", "GangScope",
    "check_canonical", "record_type", "record_type_name",
    "Role", "RevocationReason", "Envelope", "Revocation", "Key", "Verified", "TrustStore", "VerifyBatch",
    "statement_default_role", "envelope_digest",
    "PVState", "Verdict", "PV", "PVText", "PVUUID", "ProbeCheck", "ProbeDevice", "GpuReport", "Peaks",
    "probe", "probe_isolated", "probe_defaults", "derive_peaks", "probe_verdict", "pv_state_name", "verdict_name",
    "CHECK_D2D", "CHECK_H2D", "CHECK_FMA", "CHECK_ALL",
    # tier
    "CheckResult", "ChallengeKind", "JobOutcome", "EventKind", "Rule", "rule_name", "Challenge", "Job",
    "AuditReport", "TierCert", "TierLevel", "TierOptions", "TierEvent", "EraSummary", "Slash", "Component",
    "TierExplanation", "TierDisputes", "TierEngine", "verify_tier_certificate",
    # match
    "Preset", "Constraint", "constraint_name", "MatchOptions", "Breakdown", "Candidate", "Miss", "Relaxation",
    "Explanation", "Stats", "Digests", "GpuOwner", "GPU_HELD_OFFER", "GPU_HELD_REPORT", "Placement", "Assignment", "Receipt", "Market",
    # models
    "NameKind", "name_kind_name", "Model", "Framework", "model_table_version", "model_table_digest", "models",
    "model_find", "model_lookup", "model_family", "model_find_pci", "framework_table_version",
    "framework_table_digest", "frameworks", "framework_find",
] + [c.__name__ for c in STATUS_CLASSES.values()] + [
    "CoreError", "SnapshotError", "WireError", "AttestError", "ProbeError", "TierError", "MatchError",
]

__version__ = capi.version_string()


def init() -> None:
    """Initialise the library (idempotent, thread-safe); raises InitError."""
    capi.init()


def version_number() -> int:
    """Run-time library version as MAJOR*10000 + MINOR*100 + PATCH."""
    return capi.version_number()


def version_string() -> str:
    """Run-time library version as "MAJOR.MINOR.PATCH"."""
    return capi.version_string()


def strerror(status: int) -> str:
    """The fixed message of a status code."""
    return capi.strerror(status)


def status_name(status: int) -> str:
    """The symbolic name of a status code ("GPURENT_E_LIMIT")."""
    return capi.status_name(status)


def last_error_message() -> str:
    """Detail of the last failure on the calling thread ("" if none).

    Exceptions already carry it as ``.detail``; this is the raw accessor."""
    return capi.last_error_message()


def last_error_status() -> int:
    """Status of the last failure on the calling thread (0 if none)."""
    return capi.last_error_status()


def error_clear() -> None:
    """Forget the calling thread's last failure."""
    capi.error_clear()


class Cancel(Handle):
    """A cancel token for long calls: ``request()`` makes every call watching
    it stop soon with :class:`CancelledError`. Thread-safe."""

    _free = staticmethod(capi.cancel_free)

    def __init__(self) -> None:
        super().__init__(capi.cancel_new())

    def request(self) -> None:
        """Set the token."""
        capi.cancel_request(self.ptr)

    def requested(self) -> bool:
        """Whether the token is set."""
        return bool(capi.cancel_requested(self.ptr))

    def reset(self) -> None:
        """Unset the token so it can be reused."""
        capi.cancel_reset(self.ptr)
