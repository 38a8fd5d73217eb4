"""Provider trust tiers: auditors' evidence (:class:`AuditReport`,
:class:`TierEvent`) goes into a :class:`TierEngine`, which evaluates eras,
records slash events, explains each provider's tier and issues
:class:`TierCert` certificates.

Everything that decides a tier is integer arithmetic, so engines fed the same
evidence give byte-identical certificates in C, Python and Go (docs/tiers.md).
Signed evidence (:meth:`TierEngine.record_signed`, ``record_signed_many``)
and signed certificates (:meth:`TierEngine.sign_certificate`,
:meth:`TierEngine.cosign_certificate`, :func:`verify_tier_certificate`) take
the attest module's :class:`~gpurent.Key` and :class:`~gpurent.TrustStore`.
"""
from __future__ import annotations

import dataclasses
import enum
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import capi
from ._fields import call_with, document, set_fields, snake
from ._handle import Handle, guarded

if TYPE_CHECKING:  # pragma: no cover
    from .attest import Key, TrustStore

BytesLike = Union[bytes, bytearray, memoryview]


def _f(key: int, default: Any = 0) -> Any:
    if isinstance(default, list):
        return field(default_factory=list, metadata={"key": key})
    return field(default=default, metadata={"key": key})


def _get(cls: Any, c: Any, skip: Iterable[str] = ()) -> Dict[str, Any]:
    return {f.name: getattr(c, f.name) for f in dataclasses.fields(cls) if f.name not in skip}


def _set(obj: Any, c: Any, skip: Iterable[str] = ()) -> Any:
    names = [f.name for f in dataclasses.fields(obj) if f.name not in skip]
    return set_fields(c, obj, names, snake(type(obj).__name__))


class CheckResult(enum.IntEnum):
    """Outcome of one audit check."""
    NOT_RUN = capi.CHECK_NOT_RUN
    PASSED = capi.CHECK_PASSED
    FAILED = capi.CHECK_FAILED


class ChallengeKind(enum.IntEnum):
    """Kind of liveness challenge."""
    GPU = capi.CHALLENGE_GPU
    CPU = capi.CHALLENGE_CPU


class JobOutcome(enum.IntEnum):
    """How a job ended (only FAILED_PROVIDER counts against the provider)."""
    COMPLETED = capi.JOB_COMPLETED
    FAILED_PROVIDER = capi.JOB_FAILED_PROVIDER
    FAILED_USER = capi.JOB_FAILED_USER


class EventKind(enum.IntEnum):
    """Kinds of single evidence events (gpurent_tier_event_kind)."""
    GPU_CHALLENGE = capi.TIER_EVENT_GPU_CHALLENGE
    CPU_CHALLENGE = capi.TIER_EVENT_CPU_CHALLENGE
    JOB = capi.TIER_EVENT_JOB
    STAKE = capi.TIER_EVENT_STAKE


class Rule(enum.IntEnum):
    """The rule that decided a provider's tier in the last evaluated era."""
    NOT_EVALUATED = capi.TIER_RULE_NOT_EVALUATED
    HELD = capi.TIER_RULE_HELD
    UP_STREAK = capi.TIER_RULE_UP_STREAK
    PROMOTED = capi.TIER_RULE_PROMOTED
    DOWN_STREAK = capi.TIER_RULE_DOWN_STREAK
    DEMOTED = capi.TIER_RULE_DEMOTED
    INCUBATION_RESET = capi.TIER_RULE_INCUBATION_RESET
    SECURITY_DEMOTION = capi.TIER_RULE_SECURITY_DEMOTION
    NO_EVIDENCE = capi.TIER_RULE_NO_EVIDENCE
    WAIT_INCUBATION = capi.TIER_RULE_WAIT_INCUBATION
    WAIT_QUORUM = capi.TIER_RULE_WAIT_QUORUM
    AUDIT_FAILED = capi.TIER_RULE_AUDIT_FAILED
    BOTTOM = capi.TIER_RULE_BOTTOM


def rule_name(rule: int) -> str:
    """Static name of a rule ("promoted"); "unknown" otherwise."""
    return capi.tier_rule_name(rule)


# ---- records ----

@document
@dataclass
class Challenge:
    """One liveness challenge an auditor sent, and its result."""
    time_s: int = _f(1)
    kind: int = _f(2, int(ChallengeKind.GPU))
    passed: int = _f(3)


@document
@dataclass
class Job:
    """One job's outcome as the auditor observed it."""
    job_id: str = _f(1, "")
    end_s: int = _f(2)
    outcome: int = _f(3, int(JobOutcome.COMPLETED))


@document
@dataclass
class AuditReport:
    """An auditor's report about one provider (gpurent_audit_report): the
    checks it ran, the stake it observed, challenge results and job outcomes.
    Lists are sets: encoding sorts them, decoding returns them sorted."""
    provider_key: bytes = _f(1, bytes(32))
    auditor_key: bytes = _f(2, bytes(32))
    time_s: int = _f(3)
    gpu_report: int = _f(4)
    integrity: int = _f(5)
    security: int = _f(6)
    gpu_report_digest: bytes = _f(7, bytes(32))
    stake_observed: int = _f(8)
    stake_micro: int = _f(9)
    challenges: List[Challenge] = _f(10, [])
    jobs: List[Job] = _f(11, [])

    _lists = ("challenges", "jobs")

    def __post_init__(self) -> None:
        self.challenges = [Challenge(**c) if isinstance(c, dict) else c for c in self.challenges]
        self.jobs = [Job(**j) if isinstance(j, dict) else j for j in self.jobs]

    def _to_c(self) -> Any:
        c = capi.audit_report()  # frees its arrays when collected
        capi.audit_report_init(c)
        _set(self, c, self._lists)
        for i, ch in enumerate(self.challenges):
            call_with("audit_report", f"challenges[{i}]", (ch.time_s, ch.kind, ch.passed),
                      capi.audit_report_add_challenge, c, ch.time_s, ch.kind, ch.passed)
        for i, j in enumerate(self.jobs):
            call_with("audit_report", f"jobs[{i}]", (j.job_id, j.end_s, j.outcome),
                      capi.audit_report_add_job, c, j.job_id, j.end_s, j.outcome)
        return c

    @classmethod
    def _from_c(cls, c: Any) -> "AuditReport":
        chs = []
        for i in range(c.challenge_count):
            x = capi.audit_report_challenge(c, i)
            chs.append(Challenge(x.time_s, x.kind, x.passed))
        jobs = []
        for i in range(c.job_count):
            x = capi.audit_report_job(c, i)
            jobs.append(Job(x.job_id, x.end_s, x.outcome))
        return cls(challenges=chs, jobs=jobs, **_get(cls, c, cls._lists))

    def validate(self) -> None:
        """Check every field and cross-field rule; InvalidFieldError names it."""
        capi.audit_report_validate(self._to_c())

    def encode(self) -> bytes:
        """Validate, then return the canonical bytes (lists sorted)."""
        return capi.audit_report_encode(self._to_c())

    @classmethod
    def decode(cls, data: bytes) -> "AuditReport":
        """Decode and validate untrusted bytes."""
        c = capi.audit_report()
        capi.audit_report_init(c)
        capi.audit_report_decode(data, c)
        try:
            return cls._from_c(c)
        finally:
            capi.audit_report_clear(c)


@document
@dataclass
class TierCert:
    """A tier certificate (gpurent_tier_cert): one provider's tier and score
    at the end of one era, with digests of the evidence and parameters.
    ``auditors`` are 32-byte keys, ascending and unique."""
    provider_key: bytes = _f(1, bytes(32))
    era: int = _f(2)
    tier: int = _f(3)
    incubating: int = _f(4)
    score_ppm: int = _f(5)
    mean_ppm: int = _f(6)
    confidence_ppm: int = _f(7)
    uptime_ppm: int = _f(8)
    eras_in_tier: int = _f(9)
    points_ppm: int = _f(10)
    evidence_digest: bytes = _f(11, bytes(32))
    params_digest: bytes = _f(12, bytes(32))
    auditors: List[bytes] = _f(13, [])

    def _to_c(self) -> Any:
        c = capi.tier_cert()  # more than 16 auditors: the count is kept, validation refuses it
        _set(self, c, ("auditors",))
        c.auditor_count = len(self.auditors)
        for i, k in enumerate(self.auditors[:capi.TIER_CERT_MAX_AUDITORS]):
            c.set_auditor(i, k)
        return c

    @classmethod
    def _from_c(cls, c: Any) -> "TierCert":
        n = min(c.auditor_count, capi.TIER_CERT_MAX_AUDITORS)
        return cls(auditors=[c.auditor_at(i) for i in range(n)], **_get(cls, c, ("auditors",)))

    def validate(self) -> None:
        """Check ranges and the auditor list."""
        capi.tier_cert_validate(self._to_c())

    def encode(self) -> bytes:
        """Validate, then return the canonical bytes."""
        return capi.tier_cert_encode(self._to_c())

    @classmethod
    def decode(cls, data: bytes) -> "TierCert":
        """Decode and validate untrusted bytes."""
        c = capi.tier_cert()
        capi.tier_cert_decode(data, c)
        return cls._from_c(c)


# ---- engine parameters and results ----

@dataclass
class TierLevel:
    """One row of the tier table (tier 1 is row 0)."""
    uptime_min_ppm: int = 0
    slash_below_ppm: int = 0
    points_ppm: int = 0
    eras_up: int = 0
    eras_down: int = 0


def _options_defaults() -> Dict[str, Any]:
    c = capi.tier_options()
    capi.tier_options_init(c, capi.TIER_OPTIONS_VERSION)
    d = {f: getattr(c, f) for f in _OPTION_SCALARS}
    d["tiers"] = [TierLevel(**_get(TierLevel, c.tier_at(i))) for i in range(c.tier_count)]
    return d


_OPTION_SCALARS = ("tier_count", "incubation_tiers", "min_incubation_eras", "quorum_auditors", "era_s",
                   "genesis_s", "first_era", "window_eras", "half_life_eras", "gpu_weight_ppm", "cpu_weight_ppm",
                   "bound", "z_milli", "prior_pass_milli", "prior_fail_milli", "weight_uptime_ppm",
                   "weight_audit_ppm", "weight_jobs_ppm", "weight_stake_ppm", "weight_tenure_ppm",
                   "stake_full_micro", "tenure_full_eras", "security_demote_tiers", "max_providers",
                   "unverified_evidence")


@dataclass
class TierOptions:
    """Engine parameters (gpurent_tier_options); the defaults are the
    published Spheron table and docs/tiers.md's values. ``tiers`` holds
    ``tier_count`` rows (tier 1 first); ``tier_count`` follows ``tiers``
    unless set explicitly to something else."""
    tier_count: int = 0
    tiers: List[TierLevel] = field(default_factory=list)
    incubation_tiers: int = 0
    min_incubation_eras: int = 0
    quorum_auditors: int = 0
    era_s: int = 0
    genesis_s: int = 0
    first_era: int = 0
    window_eras: int = 0
    half_life_eras: int = 0
    gpu_weight_ppm: int = 0
    cpu_weight_ppm: int = 0
    bound: int = 0
    z_milli: int = 0
    prior_pass_milli: int = 0
    prior_fail_milli: int = 0
    weight_uptime_ppm: int = 0
    weight_audit_ppm: int = 0
    weight_jobs_ppm: int = 0
    weight_stake_ppm: int = 0
    weight_tenure_ppm: int = 0
    stake_full_micro: int = 0
    tenure_full_eras: int = 0
    security_demote_tiers: int = 0
    max_providers: int = 0
    #: 1: ``record`` and ``record_report`` take evidence you verified
    #: yourself; 0 (default): they raise EvidenceRejectedError and evidence
    #: enters only through ``record_signed`` / ``record_signed_many``.
    unverified_evidence: int = 0

    def __init__(self, **kw: Any) -> None:
        d = _options_defaults()
        unknown = set(kw) - set(d)
        if unknown:
            raise TypeError(f"TierOptions: unknown fields {sorted(unknown)}")
        d.update(kw)
        if "tiers" in kw and "tier_count" not in kw:
            d["tier_count"] = len(d["tiers"])
        d["tiers"] = [TierLevel(**t) if isinstance(t, dict) else t for t in d["tiers"]]
        for k, v in d.items():
            setattr(self, k, v)

    def _to_c(self) -> Any:
        c = capi.tier_options()
        capi.tier_options_init(c, capi.TIER_OPTIONS_VERSION)
        for n in _OPTION_SCALARS:
            setattr(c, n, getattr(self, n))
        for i in range(capi.TIER_MAX_TIERS):
            _set(self.tiers[i] if i < len(self.tiers) else TierLevel(), c.tier_at(i))
        return c

    def validate(self) -> None:
        """Check the options; InvalidArgError names the field."""
        capi.tier_options_validate(self._to_c())


@document
@dataclass
class TierEvent:
    """One piece of (already verified) evidence about one provider."""
    provider_key: bytes
    time_s: int
    kind: int
    value: int


@dataclass
class EraSummary:
    """Summary of one era's evaluation. ``tier_counts[i]`` = providers in
    tier i+1 after the era."""
    era: int = 0
    evaluated: int = 0
    promoted: int = 0
    demoted: int = 0
    resets: int = 0
    slashes: int = 0
    graduated: int = 0
    tier_counts: List[int] = field(default_factory=list)


@dataclass
class Slash:
    """A slash event of the last evaluated era (``reasons``: 1 uptime, 2 security)."""
    provider_key: bytes = bytes(32)
    era: int = 0
    reasons: int = 0
    tier_before: int = 0
    tier_after: int = 0
    uptime_ppm: int = 0


@dataclass
class Component:
    """One component's part in a score."""
    value_ppm: int = 0
    mean_ppm: int = 0
    weight_ppm: int = 0
    contribution_ppm: int = 0
    evidence_q16: int = 0


@dataclass
class TierExplanation:
    """Why a provider has its tier and what it needs to move up
    (gpurent_tier_explanation). ``components`` are indexed uptime, audit,
    jobs, stake, tenure; ``text`` is the library's rendering."""
    provider_key: bytes = bytes(32)
    era: int = 0
    tier: int = 0
    previous_tier: int = 0
    incubating: int = 0
    rule: int = 0
    score_ppm: int = 0
    mean_ppm: int = 0
    confidence_ppm: int = 0
    era_uptime_ppm: int = 0
    era_observed: int = 0
    qualifying_tier: int = 0
    slash_reasons: int = 0
    points_ppm: int = 0
    components: List[Component] = field(default_factory=list)
    up_streak: int = 0
    down_streak: int = 0
    eras_in_tier: int = 0
    incubation_eras: int = 0
    auditors: int = 0
    stake_micro: int = 0
    first_era: int = 0
    next_tier: int = 0
    need_uptime_ppm: int = 0
    need_eras: int = 0
    need_incubation_eras: int = 0
    need_auditors: int = 0
    text: str = ""

    @classmethod
    def _from_c(cls, c: Any) -> "TierExplanation":
        comps = [Component(**_get(Component, c.component_at(i))) for i in range(capi.TIER_COMPONENTS)]
        return cls(components=comps, text=capi.tier_explain_text(c).decode("utf-8", "replace"),
                   **_get(cls, c, ("components", "text")))


@dataclass
class TierDisputes:
    """How the last evaluated era's evidence was weighed against auditors
    that may lie (gpurent_tier_disputes): the era's k-th lowest and k-th
    highest source uptimes, its sources, and the distinct auditors whose
    failure report of each check is not (yet) confirmed by k."""
    era: int = 0
    quorum: int = 0
    sources: int = 0
    uptime_low_ppm: int = 0
    uptime_high_ppm: int = 0
    lone_gpu_report: int = 0
    lone_integrity: int = 0
    lone_security: int = 0


# ---- the engine ----

class TierEngine(Handle):
    """A tier engine: providers' evidence and tier state.

    ``TierEngine(options)``; use ``with`` or ``close()``. One engine must not
    be used from two threads at once (read-only calls may run together).
    :meth:`evaluate`, :meth:`record`, :meth:`record_report` and the signed
    calls (:meth:`record_signed`, :meth:`record_signed_many`,
    :meth:`sign_certificate`, :meth:`cosign_certificate`) release the GIL."""

    _free = staticmethod(capi.tier_engine_free)

    def __init__(self, options: Optional[TierOptions] = None) -> None:
        super().__init__(capi.tier_engine_new(None if options is None else options._to_c()))

    def era_of(self, time_s: int) -> int:
        """The era a Unix second falls in."""
        return capi.tier_era_of(self.ptr, time_s)

    def next_era(self) -> int:
        """The next era :meth:`evaluate` accepts."""
        return capi.tier_next_era(self.ptr)

    def provider_count(self) -> int:
        """Number of providers the engine knows."""
        return capi.tier_provider_count(self.ptr)

    def provider_key(self, index: int) -> bytes:
        """The key of provider ``index`` (NotFoundError out of range)."""
        out = bytearray(32)
        capi.tier_provider_key(self.ptr, index, out)
        return bytes(out)

    def providers(self) -> List[bytes]:
        """Every provider's key, in the order they first appeared."""
        return [self.provider_key(i) for i in range(self.provider_count())]

    def params_digest(self) -> bytes:
        """Digest of the parameters (a certificate's params_digest)."""
        out = bytearray(32)
        capi.tier_params_digest(self.ptr, out)
        return bytes(out)

    # ---- snapshots (docs/snapshots.md) ----

    def save(self, input_seq: int = 0) -> bytes:
        """The engine's whole state as a snapshot, recording ``input_seq``:
        the last input of your ordered log it reflects. An engine loaded
        from it gives byte-identical certificates and explanations."""
        return capi.tier_save(self.ptr, input_seq)

    def save_file(self, path: Union[str, "os.PathLike[str]"], input_seq: int = 0) -> None:
        """:meth:`save` into ``path`` crash-safely (temporary file in the same
        folder, mode 0600, fsync, rename, folder fsync)."""
        capi.tier_save_file(self.ptr, input_seq, os.fspath(path))

    @classmethod
    def load(cls, data: bytes, expect: Optional[TierOptions] = None) -> "Tuple[TierEngine, int]":
        """An engine from :meth:`save` bytes and the input sequence it
        recorded. Nothing is trusted: SnapshotCorruptError, ...TruncatedError,
        ...KindError, ...VersionError, or ...ParamsError (the snapshot's
        parameters differ from ``expect``) and nothing is loaded."""
        ptr, seq = capi.tier_load(data, None if expect is None else expect._to_c())
        return cls._adopt(ptr), seq

    @classmethod
    def load_file(cls, path: Union[str, "os.PathLike[str]"],
                  expect: Optional[TierOptions] = None) -> "Tuple[TierEngine, int]":
        """:meth:`load` from the file at ``path`` (IOFailedError when unreadable)."""
        ptr, seq = capi.tier_load_file(os.fspath(path), None if expect is None else expect._to_c())
        return cls._adopt(ptr), seq

    @classmethod
    def _adopt(cls, ptr: Any) -> "TierEngine":
        engine = cls.__new__(cls)
        Handle.__init__(engine, ptr)
        return engine

    def record(self, events: Iterable[TierEvent]) -> None:
        """Record already-verified evidence, all or nothing."""
        events = list(events)
        arr = capi.tier_event_array(max(1, len(events)))
        for i, e in enumerate(events):
            call_with("events", f"[{i}]", e, arr.set, i, e.provider_key, e.time_s, e.kind, e.value)
        capi.tier_record(self.ptr, arr.cast(), len(events))

    def record_report(self, report: Union[AuditReport, bytes]) -> None:
        """Record an audit report that was ALREADY verified as signed by an
        authorized auditor (an :class:`AuditReport` or its bytes)."""
        if isinstance(report, AuditReport):
            capi.tier_record_report(self.ptr, report._to_c())
        else:  # decoded and recorded in one call into C
            capi.tier_record_report_bytes(self.ptr, report)

    def evaluate(self, era: Optional[int] = None, cancel: Any = None) -> EraSummary:
        """Evaluate era ``era`` (default: :meth:`next_era`) and close it."""
        s = capi.tier_era_summary()
        capi.tier_evaluate(self.ptr, self.next_era() if era is None else era,
                           None if cancel is None else cancel.ptr, s)
        return EraSummary(tier_counts=[s.tier_count_at(i) for i in range(capi.TIER_MAX_TIERS)],
                          **_get(EraSummary, s, ("tier_counts",)))

    def slashes(self) -> List[Slash]:
        """The slash events of the last evaluated era, by provider key."""
        out = []
        c = capi.tier_slash()
        for i in range(capi.tier_slash_count(self.ptr)):
            capi.tier_slash_get(self.ptr, i, c)
            out.append(Slash(**_get(Slash, c)))
        return out

    def slash(self, index: int) -> Slash:
        """Slash event ``index`` (NotFoundError out of range)."""
        c = capi.tier_slash()
        capi.tier_slash_get(self.ptr, index, c)
        return Slash(**_get(Slash, c))

    def explain(self, provider_key: bytes) -> TierExplanation:
        """Why the provider has its tier (UnknownProviderError if unknown)."""
        c = capi.tier_explanation()
        capi.tier_explain(self.ptr, provider_key, c)
        return TierExplanation._from_c(c)

    def explain_disputes(self, provider_key: bytes) -> TierDisputes:
        """The robust uptime statistics and lone failure reports of the
        provider's last evaluated era (UnknownProviderError if unknown)."""
        c = capi.tier_disputes()
        capi.tier_explain_disputes(self.ptr, provider_key, c)
        return TierDisputes(**_get(TierDisputes, c))

    def auditor_contradicted(self, auditor_key: bytes) -> int:
        """Failure reports of the auditor that k other auditors contradicted
        (passed the same check on the same provider in the same era);
        NotFoundError if the engine has no entry of the auditor."""
        return capi.tier_auditor_contradicted(self.ptr, auditor_key)

    def certificate(self, provider_key: bytes) -> TierCert:
        """The provider's certificate for the last evaluated era
        (QuorumNotMetError below quorum_auditors, NotFoundError before any
        evaluation of it)."""
        c = capi.tier_cert()
        capi.tier_certificate(self.ptr, provider_key, c)
        return TierCert._from_c(c)

    # ---- signed evidence and certificates ----

    def record_signed(self, trust: "TrustStore", envelope: BytesLike, now: int, skew_s: int = 0) -> None:
        """Verify a signed audit report and record it: the envelope must be
        an audit-report statement signed by an auditor ``trust`` holds, valid
        at ``now`` +- ``skew_s``, whose report names that auditor; not a
        replay. A refused envelope changes neither the engine nor ``trust``
        (the exception says which step refused it; docs/tiers.md). Releases
        the GIL."""
        capi.tier_record_signed(self.ptr, trust.ptr, envelope, now, skew_s)

    def record_signed_many(self, trust: "TrustStore", envelopes: Sequence[BytesLike], now: int, skew_s: int = 0,
                           threads: int = 0, cancel: Any = None) -> List[int]:
        """:meth:`record_signed` for many envelopes, the signature checks on
        ``threads`` threads (0 = one per CPU) with the GIL released. Returns
        one status per envelope (0 = recorded; see
        :func:`gpurent.class_for_status`), exactly as one call per envelope
        in input order would. Raises CancelledError."""
        return capi.tier_record_signed_many(self.ptr, trust.ptr, envelopes, now, skew_s, threads,
                                            None if cancel is None else cancel.ptr)

    def sign_certificate(self, key: "Key", provider_key: bytes, issued_at: int, expires_at: int) -> bytes:
        """The provider's :meth:`certificate`, signed with ``key`` as a
        tier-certificate statement (subject: the provider key; a random
        nonce), valid from ``issued_at`` until ``expires_at``. Other
        auditors add their signatures with :meth:`cosign_certificate`."""
        return capi.tier_certificate_sign(self.ptr, key.ptr, provider_key, issued_at, expires_at)

    def cosign_certificate(self, key: "Key", trust: "TrustStore", envelope: BytesLike, now: int,
                           skew_s: int = 0) -> bytes:
        """Add ``key``'s signature to another auditor's signed certificate,
        after checking it verifies against ``trust`` and that its payload is
        byte for byte the certificate this engine computes
        (CertMismatchError otherwise). ExistsError if ``key`` signed it."""
        return capi.tier_certificate_cosign(self.ptr, key.ptr, trust.ptr, envelope, now, skew_s)


@guarded
def verify_tier_certificate(trust: "TrustStore", envelope: BytesLike, now: int, skew_s: int = 0,
                            quorum: int = 1) -> TierCert:
    """Verify a signed tier certificate: signed by at least ``quorum``
    distinct auditors ``trust`` holds (QuorumNotMetError below), valid at
    ``now`` +- ``skew_s``; no replay check (a certificate is a standing
    claim). Returns the certificate; check its era and params_digest against
    what you accept."""
    c = capi.tier_cert()
    capi.tier_certificate_verify(trust.ptr, envelope, now, skew_s, quorum, c)
    return TierCert._from_c(c)
