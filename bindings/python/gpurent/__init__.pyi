"""Type stub for the gpurent package (the Pythonic layer over gpurent.capi)."""
from typing import Any, Callable, ClassVar, Dict, Iterable, List, Optional, Tuple, Type, TypeVar, Union
import enum

from . import capi as capi

__version__: str

_R = TypeVar("_R", bound="_Record")

# ---- core ----
def init() -> None: ...
def version_number() -> int: ...
def version_string() -> str: ...
def strerror(status: int) -> str: ...
def status_name(status: int) -> str: ...
def last_error_message() -> str: ...
def last_error_status() -> int: ...
def error_clear() -> None: ...

class Handle:
    _free: Callable[[Any], None]
    def __init__(self, ptr: Any) -> None: ...
    @property
    def ptr(self) -> Any: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self: _H) -> _H: ...
    def __exit__(self, *exc: object) -> None: ...

_H = TypeVar("_H", bound=Handle)

class Cancel(Handle):
    def __init__(self) -> None: ...
    def request(self) -> None: ...
    def requested(self) -> bool: ...
    def reset(self) -> None: ...

# ---- errors ----
class Error(Exception):
    status: int
    name: str
    message: str
    detail: str
    def __init__(self, status: int, name: str, message: str, detail: str = ...) -> None: ...

class CoreError(Error): ...
class WireError(Error, ValueError): ...
class AttestError(Error): ...
class ProbeError(Error): ...
class TierError(Error): ...
class MatchError(Error): ...
class InvalidArgError(CoreError, ValueError): ...
class NoMemoryError(CoreError, MemoryError): ...
class VersionError(CoreError): ...
class CancelledError(CoreError): ...
class InternalError(CoreError): ...
class IOFailedError(CoreError, OSError): ...
class LimitError(CoreError): ...
class UnsupportedError(CoreError): ...
class NotFoundError(CoreError, LookupError): ...
class ExistsError(CoreError): ...
class TimedOutError(CoreError, TimeoutError): ...
class InitError(CoreError): ...
class SnapshotError(CoreError): ...
class SnapshotCorruptError(SnapshotError): ...
class SnapshotTruncatedError(SnapshotError): ...
class SnapshotKindError(SnapshotError): ...
class SnapshotVersionError(SnapshotError): ...
class SnapshotParamsError(SnapshotError): ...
class MalformedError(WireError): ...
class TruncatedError(WireError): ...
class NonCanonicalError(WireError): ...
class OversizeError(WireError): ...
class InvalidFieldError(WireError): ...
class FieldRangeError(InvalidFieldError): ...
class FieldTypeError(InvalidFieldError, TypeError): ...
class WrongRecordError(WireError): ...
class BadSignatureError(AttestError): ...
class ExpiredError(AttestError): ...
class NotYetValidError(AttestError): ...
class UnknownIssuerError(AttestError): ...
class RoleNotAllowedError(AttestError): ...
class RevokedError(AttestError): ...
class ReplayedError(AttestError): ...
class QuorumNotMetError(AttestError): ...
class WrongPassphraseError(AttestError): ...
class KeyfileDamagedError(AttestError): ...
class KeyMismatchError(AttestError): ...
class NoDriverError(ProbeError): ...
class StubDriverError(ProbeError): ...
class DriverTooOldError(ProbeError): ...
class DriverFailedError(ProbeError): ...
class DriverTimeoutError(ProbeError): ...
class BenchUnavailableError(ProbeError): ...
class NoDeviceError(ProbeError): ...
class DeviceFailedError(ProbeError): ...
class UnknownProviderError(TierError): ...
class EvidenceRejectedError(TierError): ...
class CertMismatchError(TierError): ...
class InfeasibleError(MatchError): ...
class UnknownOfferError(MatchError): ...
class UnknownRequestError(MatchError): ...
class CapacityError(MatchError): ...
class GpuConflictError(MatchError): ...

STATUS_CLASSES: Dict[int, Type[Error]]
def class_for_status(status: int) -> Type[Error]: ...

# ---- wire ----
class RecordType(enum.IntEnum):
    GPU: int
    OFFER: int
    REQUEST: int
    GPU_REPORT: int
    AUDIT_REPORT: int
    TIER_CERT: int
    MATCH_RECEIPT: int
    REVOCATION: int
    ENVELOPE: int

class Interface(enum.IntEnum):
    ANY: int
    PCIE: int
    SXM: int

class GangScope(enum.IntEnum):
    NODE: int
    PROVIDER: int
    REGION: int

class _Record:
    @classmethod
    def wire_keys(cls) -> Dict[str, int]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    @classmethod
    def from_dict(cls: Type[_R], d: Dict[str, Any]) -> _R: ...

class GPU(_Record):
    model: str
    uuid: bytes
    pci_domain: int
    pci_bus: int
    pci_device: int
    cc_major: int
    cc_minor: int
    sm_count: int
    memory_mib: int
    clock_mhz: int
    mem_clock_mhz: int
    bus_width_bits: int
    l2_kib: int
    ecc_enabled: int
    interface: int
    fp32_gflops: int
    fp16_tensor_gflops: int
    mem_bw_mbps: int
    measured_fp32_gflops: int
    measured_mem_bw_mbps: int
    cuda_version: int
    pci_vendor_id: int
    pci_device_id: int
    pci_subsystem_vendor_id: int
    pci_subsystem_device_id: int
    def __init__(self, model: str = ..., uuid: bytes = ..., pci_domain: int = ..., pci_bus: int = ...,
                 pci_device: int = ..., cc_major: int = ..., cc_minor: int = ..., sm_count: int = ...,
                 memory_mib: int = ..., clock_mhz: int = ..., mem_clock_mhz: int = ..., bus_width_bits: int = ...,
                 l2_kib: int = ..., ecc_enabled: int = ..., interface: int = ..., fp32_gflops: int = ...,
                 fp16_tensor_gflops: int = ..., mem_bw_mbps: int = ..., measured_fp32_gflops: int = ...,
                 measured_mem_bw_mbps: int = ..., cuda_version: int = ..., pci_vendor_id: int = ...,
                 pci_device_id: int = ..., pci_subsystem_vendor_id: int = ...,
                 pci_subsystem_device_id: int = ...) -> None: ...
    def validate(self) -> None: ...
    def encode(self) -> bytes: ...
    @classmethod
    def decode(cls, data: bytes) -> GPU: ...

class Node(_Record):
    node_id: str
    gpu: GPU
    gpu_count: int
    gpu_free: int
    shared: int
    cpu_millicores: int
    ram_mib: int
    disk_gib: int
    price_micro_per_gpu_hour: int
    report_digest: bytes
    def __init__(self, node_id: str = ..., gpu: Optional[GPU] = ..., gpu_count: int = ..., gpu_free: int = ...,
                 shared: int = ..., cpu_millicores: int = ..., ram_mib: int = ..., disk_gib: int = ...,
                 price_micro_per_gpu_hour: int = ..., report_digest: bytes = ...) -> None: ...

class Offer(_Record):
    provider_key: bytes
    seq: int
    region: str
    stake_micro: int
    min_duration_s: int
    max_duration_s: int
    nodes: List[Node]
    def __init__(self, provider_key: bytes = ..., seq: int = ..., region: str = ..., stake_micro: int = ...,
                 min_duration_s: int = ..., max_duration_s: int = ..., nodes: List[Node] = ...) -> None: ...
    def validate(self) -> None: ...
    def encode(self) -> bytes: ...
    @classmethod
    def decode(cls, data: bytes) -> Offer: ...

class Request(_Record):
    request_id: str
    gpu_count: int
    gang_nodes: int
    gang_scope: int
    vram_share_pct: int
    min_vram_mib: int
    min_cc: int
    min_fp32_gflops: int
    interface: int
    min_cuda_version: int
    max_price_micro_per_gpu_hour: int
    allowed_tiers: int
    duration_s: int
    verified_only: int
    cpu_millicores: int
    ram_mib: int
    disk_gib: int
    submitted_at: int
    models: List[str]
    regions: List[str]
    excluded_regions: List[str]
    providers: List[bytes]
    excluded_providers: List[bytes]
    framework: str
    def __init__(self, request_id: str = ..., gpu_count: int = ..., gang_nodes: int = ..., gang_scope: int = ...,
                 vram_share_pct: int = ..., min_vram_mib: int = ..., min_cc: int = ..., min_fp32_gflops: int = ...,
                 interface: int = ..., min_cuda_version: int = ..., max_price_micro_per_gpu_hour: int = ...,
                 allowed_tiers: int = ..., duration_s: int = ..., verified_only: int = ..., cpu_millicores: int = ...,
                 ram_mib: int = ..., disk_gib: int = ..., submitted_at: int = ..., models: List[str] = ...,
                 regions: List[str] = ..., excluded_regions: List[str] = ..., providers: List[bytes] = ...,
                 excluded_providers: List[bytes] = ..., framework: str = ...) -> None: ...
    def validate(self) -> None: ...
    def encode(self) -> bytes: ...
    @classmethod
    def decode(cls, data: bytes) -> Request: ...

def check_canonical(data: bytes) -> None: ...
def record_type(data: bytes) -> int: ...
def record_type_name(rtype: int) -> str: ...

# ---- attest ----
from os import PathLike
from typing import Sequence, Union
_Bytes = Union[bytes, bytearray, memoryview]

class Role(enum.IntFlag):
    PROVIDER: int
    AUDITOR: int
    MATCHER: int
    REVOKER: int
    REQUESTER: int
    ALL: int

class RevocationReason(enum.IntEnum):
    UNSPECIFIED: int
    COMPROMISED: int
    SUPERSEDED: int
    RETIRED: int

def statement_default_role(statement: int) -> Role: ...
def envelope_digest(envelope: _Bytes) -> bytes: ...

class Envelope(_Record):
    statement: int
    issuer: bytes
    issued_at: int
    expires_at: int
    nonce: bytes
    subject: bytes
    payload_len: int
    signature_count: int
    def __init__(self, statement: int = ..., issuer: bytes = ..., issued_at: int = ..., expires_at: int = ...,
                 nonce: bytes = ..., subject: bytes = ..., payload_len: int = ...,
                 signature_count: int = ...) -> None: ...
    @classmethod
    def decode(cls, data: _Bytes) -> Envelope: ...

class Revocation(_Record):
    key: bytes
    revoked_at: int
    reason: int
    def __init__(self, key: bytes = ..., revoked_at: int = ..., reason: int = ...) -> None: ...
    def validate(self) -> None: ...
    def encode(self) -> bytes: ...
    @classmethod
    def decode(cls, data: _Bytes) -> Revocation: ...

class Key(Handle):
    @classmethod
    def generate(cls) -> Key: ...
    @classmethod
    def from_seed(cls, seed: _Bytes) -> Key: ...
    @classmethod
    def unseal(cls, data: _Bytes, passphrase: str, expected_public_key: Optional[bytes] = ...) -> Key: ...
    @classmethod
    def load(cls, path: Union[str, PathLike[str]], passphrase: str,
             expected_public_key: Optional[bytes] = ...) -> Key: ...
    @property
    def public_key(self) -> bytes: ...
    def seal(self, passphrase: str, opslimit: Optional[int] = ..., memlimit: Optional[int] = ...) -> bytes: ...
    def save(self, path: Union[str, PathLike[str]], passphrase: str, opslimit: Optional[int] = ...,
             memlimit: Optional[int] = ..., force: bool = ...) -> None: ...
    def sign(self, payload: _Bytes, issued_at: int, expires_at: int, statement: Optional[int] = ...,
             nonce: Optional[bytes] = ..., subject: bytes = ...) -> bytes: ...
    def cosign(self, envelope: _Bytes) -> bytes: ...

class Verified(Handle):
    @property
    def payload(self) -> bytes: ...
    @property
    def payload_view(self) -> bytes: ...
    @property
    def header(self) -> Envelope: ...
    @property
    def digest(self) -> bytes: ...
    @property
    def signers(self) -> List[bytes]: ...

class TrustStore(Handle):
    def __init__(self, replay_capacity: Optional[int] = ...) -> None: ...
    def add(self, public_key: bytes, roles: int, not_before: int = ..., not_after: int = ...) -> None: ...
    def remove(self, public_key: bytes) -> None: ...
    def roles(self, public_key: bytes) -> Role: ...
    def save(self, input_seq: int = ...) -> bytes: ...
    def save_file(self, path: Union[str, PathLike[str]], input_seq: int = ...) -> None: ...
    @classmethod
    def load(cls, data: bytes, replay_capacity: Optional[int] = ...) -> Tuple[TrustStore, int]: ...
    @classmethod
    def load_file(cls, path: Union[str, PathLike[str]], replay_capacity: Optional[int] = ...) -> Tuple[TrustStore, int]: ...
    def revoke(self, public_key: bytes) -> None: ...
    def is_revoked(self, public_key: bytes) -> bool: ...
    def __len__(self) -> int: ...
    def clear_replay(self) -> None: ...
    def adopt_replay(self, other: TrustStore) -> None: ...
    def verify(self, envelope: _Bytes, now: int, skew_s: int = ..., statement: int = ..., required_role: int = ...,
               quorum: int = ..., check_replay: bool = ...) -> Verified: ...
    def apply_revocation(self, envelope: _Bytes, now: int, skew_s: int = ..., quorum: int = ...,
                         check_replay: bool = ...) -> None: ...
    def verify_many(self, envelopes: Sequence[_Bytes], now: int, skew_s: int = ..., statement: int = ...,
                    required_role: int = ..., quorum: int = ..., check_replay: bool = ..., threads: int = ...,
                    cancel: Optional[Cancel] = ...) -> List[int]: ...

class VerifyBatch(Handle):
    def __init__(self, envelopes: Sequence[_Bytes] = ...) -> None: ...
    def add(self, envelope: _Bytes) -> None: ...
    def __len__(self) -> int: ...
    def run(self, trust: TrustStore, now: int, skew_s: int = ..., statement: int = ..., required_role: int = ...,
            quorum: int = ..., check_replay: bool = ..., threads: int = ..., cancel: Optional[Cancel] = ...) -> None: ...
    def status(self, index: int) -> int: ...
    def statuses(self) -> List[int]: ...
    def error(self, index: int) -> Optional[Exception]: ...
    def payload(self, index: int) -> bytes: ...

# ---- probe ----
CHECK_D2D: int
CHECK_H2D: int
CHECK_FMA: int
CHECK_ALL: int

class PVState(enum.IntEnum):
    OK: int
    UNSUPPORTED: int
    ERROR: int
    SKIPPED: int

class Verdict(enum.IntEnum):
    NONE: int
    PLAUSIBLE: int
    LOW: int
    IMPLAUSIBLE: int
    WRONG_OUTPUT: int

def pv_state_name(state: int) -> str: ...
def verdict_name(verdict: int) -> str: ...
def probe_verdict(ratio_ppm: int) -> Verdict: ...

class PV:
    state: int
    error: int
    value: int
    def __init__(self, state: int = ..., error: int = ..., value: int = ...) -> None: ...
    @property
    def ok(self) -> bool: ...

class PVText:
    state: int
    error: int
    value: str
    def __init__(self, state: int = ..., error: int = ..., value: str = ...) -> None: ...

class PVUUID:
    state: int
    error: int
    value: bytes
    def __init__(self, state: int = ..., error: int = ..., value: bytes = ...) -> None: ...

class ProbeCheck:
    state: int
    error: int
    value: int
    ratio_ppm: int
    verdict: int
    def __init__(self, state: int = ..., error: int = ..., value: int = ..., ratio_ppm: int = ...,
                 verdict: int = ...) -> None: ...

class ProbeDevice:
    ordinal: int
    name: PVText
    uuid: PVUUID
    pci_domain: PV
    pci_bus: PV
    pci_device: PV
    cc_major: PV
    cc_minor: PV
    sm_count: PV
    memory_bytes: PV
    clock_khz: PV
    mem_clock_khz: PV
    bus_width_bits: PV
    l2_bytes: PV
    ecc_enabled: PV
    max_threads_per_sm: PV
    fp32_gflops: PV
    fp16_tensor_gflops: PV
    bf16_tensor_gflops: PV
    mem_bw_mbps: PV
    h2d_peak_mbps: PV
    d2d: ProbeCheck
    h2d: ProbeCheck
    fma: ProbeCheck
    pci_vendor_id: int
    pci_device_id: int
    pci_subsystem_vendor_id: int
    pci_subsystem_device_id: int
    def __init__(self, ordinal: int = ..., name: PVText = ..., uuid: PVUUID = ..., pci_domain: PV = ...,
                 pci_bus: PV = ..., pci_device: PV = ..., cc_major: PV = ..., cc_minor: PV = ...,
                 sm_count: PV = ..., memory_bytes: PV = ..., clock_khz: PV = ..., mem_clock_khz: PV = ...,
                 bus_width_bits: PV = ..., l2_bytes: PV = ..., ecc_enabled: PV = ..., max_threads_per_sm: PV = ...,
                 fp32_gflops: PV = ..., fp16_tensor_gflops: PV = ..., bf16_tensor_gflops: PV = ...,
                 mem_bw_mbps: PV = ..., h2d_peak_mbps: PV = ..., d2d: ProbeCheck = ..., h2d: ProbeCheck = ...,
                 fma: ProbeCheck = ..., pci_vendor_id: int = ..., pci_device_id: int = ...,
                 pci_subsystem_vendor_id: int = ..., pci_subsystem_device_id: int = ...) -> None: ...

class GpuReport(_Record):
    nonce: bytes
    probed_at: int
    status: int
    driver_error: int
    reason: str
    driver_version: PV
    driver_path: str
    driver_digest: bytes
    ld_preload_set: int
    cuda_visible_devices_set: int
    driver_device_count: int
    checks: int
    devices: List[ProbeDevice]
    def __init__(self, nonce: bytes = ..., probed_at: int = ..., status: int = ..., driver_error: int = ...,
                 reason: str = ..., driver_version: PV = ..., driver_path: str = ..., driver_digest: bytes = ...,
                 ld_preload_set: int = ..., cuda_visible_devices_set: int = ..., driver_device_count: int = ...,
                 checks: int = ..., devices: List[ProbeDevice] = ...) -> None: ...
    def validate(self) -> None: ...
    def encode(self) -> bytes: ...
    @classmethod
    def decode(cls, data: _Bytes) -> GpuReport: ...
    def to_gpu(self, index: int) -> GPU: ...

class Peaks:
    fp32_gflops: PV
    fp16_tensor_gflops: PV
    bf16_tensor_gflops: PV
    mem_bw_mbps: PV
    h2d_peak_mbps: PV
    def __init__(self, fp32_gflops: PV, fp16_tensor_gflops: PV, bf16_tensor_gflops: PV, mem_bw_mbps: PV,
                 h2d_peak_mbps: PV) -> None: ...

def probe(nonce: bytes = ..., driver_path: Optional[Union[str, PathLike[str]]] = ..., timeout_ms: int = ...,
          checks: int = ..., check_ms: int = ..., check_max_bytes: int = ..., fma_iterations: int = ...,
          fma_samples: int = ..., now: int = ..., cancel: Optional[Cancel] = ...,
          sysfs_root: Optional[Union[str, PathLike[str]]] = ...) -> GpuReport: ...
def probe_isolated(nonce: bytes = ..., driver_path: Optional[Union[str, PathLike[str]]] = ...,
                   timeout_ms: int = ..., checks: int = ..., check_ms: int = ..., check_max_bytes: int = ...,
                   fma_iterations: int = ..., fma_samples: int = ..., now: int = ...,
                   cancel: Optional[Cancel] = ...,
                   sysfs_root: Optional[Union[str, PathLike[str]]] = ...) -> GpuReport: ...
def probe_defaults() -> Dict[str, int]: ...
def derive_peaks(cc_major: int, cc_minor: int, sm_count: int, clock_khz: int, mem_clock_khz: int,
                 bus_width_bits: int) -> Peaks: ...
# ---- tier ----
class CheckResult(enum.IntEnum):
    NOT_RUN: int
    PASSED: int
    FAILED: int

class ChallengeKind(enum.IntEnum):
    GPU: int
    CPU: int

class JobOutcome(enum.IntEnum):
    COMPLETED: int
    FAILED_PROVIDER: int
    FAILED_USER: int

class EventKind(enum.IntEnum):
    GPU_CHALLENGE: int
    CPU_CHALLENGE: int
    JOB: int
    STAKE: int

class Rule(enum.IntEnum):
    NOT_EVALUATED: int
    HELD: int
    UP_STREAK: int
    PROMOTED: int
    DOWN_STREAK: int
    DEMOTED: int
    INCUBATION_RESET: int
    SECURITY_DEMOTION: int
    NO_EVIDENCE: int
    WAIT_INCUBATION: int
    WAIT_QUORUM: int
    AUDIT_FAILED: int
    BOTTOM: int

def rule_name(rule: int) -> str: ...

class Challenge:
    time_s: int
    kind: int
    passed: int
    def __init__(self, time_s: int = ..., kind: int = ..., passed: int = ...) -> None: ...

class Job:
    job_id: str
    end_s: int
    outcome: int
    def __init__(self, job_id: str = ..., end_s: int = ..., outcome: int = ...) -> None: ...

class AuditReport:
    provider_key: bytes
    auditor_key: bytes
    time_s: int
    gpu_report: int
    integrity: int
    security: int
    gpu_report_digest: bytes
    stake_observed: int
    stake_micro: int
    challenges: List[Challenge]
    jobs: List[Job]
    def __init__(self, provider_key: bytes = ..., auditor_key: bytes = ..., time_s: int = ..., gpu_report: int = ...,
                 integrity: int = ..., security: int = ..., gpu_report_digest: bytes = ..., stake_observed: int = ...,
                 stake_micro: int = ..., challenges: List[Challenge] = ..., jobs: List[Job] = ...) -> None: ...
    def validate(self) -> None: ...
    def encode(self) -> bytes: ...
    @classmethod
    def decode(cls, data: bytes) -> AuditReport: ...

class TierCert:
    provider_key: bytes
    era: int
    tier: int
    incubating: int
    score_ppm: int
    mean_ppm: int
    confidence_ppm: int
    uptime_ppm: int
    eras_in_tier: int
    points_ppm: int
    evidence_digest: bytes
    params_digest: bytes
    auditors: List[bytes]
    def __init__(self, provider_key: bytes = ..., era: int = ..., tier: int = ..., incubating: int = ...,
                 score_ppm: int = ..., mean_ppm: int = ..., confidence_ppm: int = ..., uptime_ppm: int = ...,
                 eras_in_tier: int = ..., points_ppm: int = ..., evidence_digest: bytes = ...,
                 params_digest: bytes = ..., auditors: List[bytes] = ...) -> None: ...
    def validate(self) -> None: ...
    def encode(self) -> bytes: ...
    @classmethod
    def decode(cls, data: bytes) -> TierCert: ...

class TierLevel:
    uptime_min_ppm: int
    slash_below_ppm: int
    points_ppm: int
    eras_up: int
    eras_down: int
    def __init__(self, uptime_min_ppm: int = ..., slash_below_ppm: int = ..., points_ppm: int = ...,
                 eras_up: int = ..., eras_down: int = ...) -> None: ...

class TierOptions:
    tier_count: int
    tiers: List[TierLevel]
    incubation_tiers: int
    min_incubation_eras: int
    quorum_auditors: int
    era_s: int
    genesis_s: int
    first_era: int
    window_eras: int
    half_life_eras: int
    gpu_weight_ppm: int
    cpu_weight_ppm: int
    bound: int
    z_milli: int
    prior_pass_milli: int
    prior_fail_milli: int
    weight_uptime_ppm: int
    weight_audit_ppm: int
    weight_jobs_ppm: int
    weight_stake_ppm: int
    weight_tenure_ppm: int
    stake_full_micro: int
    tenure_full_eras: int
    security_demote_tiers: int
    max_providers: int
    unverified_evidence: int
    def __init__(self, **kw: Any) -> None: ...
    def validate(self) -> None: ...

class TierEvent:
    provider_key: bytes
    time_s: int
    kind: int
    value: int
    def __init__(self, provider_key: bytes, time_s: int, kind: int, value: int) -> None: ...

class EraSummary:
    era: int
    evaluated: int
    promoted: int
    demoted: int
    resets: int
    slashes: int
    graduated: int
    tier_counts: List[int]

class Slash:
    provider_key: bytes
    era: int
    reasons: int
    tier_before: int
    tier_after: int
    uptime_ppm: int

class Component:
    value_ppm: int
    mean_ppm: int
    weight_ppm: int
    contribution_ppm: int
    evidence_q16: int

class TierExplanation:
    provider_key: bytes
    era: int
    tier: int
    previous_tier: int
    incubating: int
    rule: int
    score_ppm: int
    mean_ppm: int
    confidence_ppm: int
    era_uptime_ppm: int
    era_observed: int
    qualifying_tier: int
    slash_reasons: int
    points_ppm: int
    components: List[Component]
    up_streak: int
    down_streak: int
    eras_in_tier: int
    incubation_eras: int
    auditors: int
    stake_micro: int
    first_era: int
    next_tier: int
    need_uptime_ppm: int
    need_eras: int
    need_incubation_eras: int
    need_auditors: int
    text: str

class TierDisputes:
    era: int
    quorum: int
    sources: int
    uptime_low_ppm: int
    uptime_high_ppm: int
    lone_gpu_report: int
    lone_integrity: int
    lone_security: int

class TierEngine(Handle):
    def __init__(self, options: Optional[TierOptions] = ...) -> None: ...
    def era_of(self, time_s: int) -> int: ...
    def next_era(self) -> int: ...
    def provider_count(self) -> int: ...
    def provider_key(self, index: int) -> bytes: ...
    def providers(self) -> List[bytes]: ...
    def params_digest(self) -> bytes: ...
    def save(self, input_seq: int = ...) -> bytes: ...
    def save_file(self, path: Union[str, PathLike[str]], input_seq: int = ...) -> None: ...
    @classmethod
    def load(cls, data: bytes, expect: Optional[TierOptions] = ...) -> Tuple[TierEngine, int]: ...
    @classmethod
    def load_file(cls, path: Union[str, PathLike[str]], expect: Optional[TierOptions] = ...) -> Tuple[TierEngine, int]: ...
    def record(self, events: Iterable[TierEvent]) -> None: ...
    def record_report(self, report: Union[AuditReport, bytes]) -> None: ...
    def evaluate(self, era: Optional[int] = ..., cancel: Optional[Cancel] = ...) -> EraSummary: ...
    def slashes(self) -> List[Slash]: ...
    def slash(self, index: int) -> Slash: ...
    def explain(self, provider_key: bytes) -> TierExplanation: ...
    def explain_disputes(self, provider_key: bytes) -> TierDisputes: ...
    def auditor_contradicted(self, auditor_key: bytes) -> int: ...
    def certificate(self, provider_key: bytes) -> TierCert: ...
    def record_signed(self, trust: TrustStore, envelope: _Bytes, now: int, skew_s: int = ...) -> None: ...
    def record_signed_many(self, trust: TrustStore, envelopes: Sequence[_Bytes], now: int, skew_s: int = ...,
                           threads: int = ..., cancel: Optional[Cancel] = ...) -> List[int]: ...
    def sign_certificate(self, key: Key, provider_key: bytes, issued_at: int, expires_at: int) -> bytes: ...
    def cosign_certificate(self, key: Key, trust: TrustStore, envelope: _Bytes, now: int,
                           skew_s: int = ...) -> bytes: ...

def verify_tier_certificate(trust: TrustStore, envelope: _Bytes, now: int, skew_s: int = ...,
                            quorum: int = ...) -> TierCert: ...

# ---- match ----
class Preset(enum.IntEnum):
    BALANCED: int
    CHEAPEST: int
    PERFORMANCE: int
    TRUSTED: int

class Constraint(enum.IntEnum):
    KIND: int
    MODEL: int
    VRAM: int
    CC: int
    FP32: int
    INTERFACE: int
    CUDA: int
    PRICE: int
    TIER: int
    VERIFIED: int
    REGION: int
    PROVIDER: int
    DURATION: int
    CPU: int
    RAM: int
    DISK: int
    GPUS: int
    BUSY: int
    GANG: int

def constraint_name(constraint: int) -> str: ...

class MatchOptions:
    w_price: int
    w_perf_price: int
    w_tier: int
    w_score: int
    w_stake: int
    w_locality: int
    w_fit: int
    price_ref_micro: int
    perf_price_cap: int
    stake_cap_micro: int
    aging_per_hour: int
    strand_min_gpus: int
    threads: int
    def __init__(self, w_price: int = ..., w_perf_price: int = ..., w_tier: int = ..., w_score: int = ...,
                 w_stake: int = ..., w_locality: int = ..., w_fit: int = ..., price_ref_micro: int = ...,
                 perf_price_cap: int = ..., stake_cap_micro: int = ..., aging_per_hour: int = ...,
                 strand_min_gpus: int = ..., threads: int = ...) -> None: ...
    @classmethod
    def preset(cls, preset: int) -> MatchOptions: ...
    def validate(self) -> None: ...
    def digest(self) -> bytes: ...

class Breakdown:
    price: int
    perf_price: int
    tier: int
    score: int
    stake: int
    locality: int
    fit: int
    total: int
    tie_hash: int

class Candidate:
    provider_key: bytes
    node_id: str
    region: str
    model: str
    node_count: int
    provider_count: int
    price_micro_per_gpu_hour: int
    breakdown: Breakdown

class Miss:
    provider_key: bytes
    node_id: str
    failed_mask: int
    failed_count: int
    total: int
    @property
    def failed(self) -> List[Constraint]: ...

class Relaxation:
    constraint: int
    from_value: int
    to_value: int
    change_pct: int
    item: str
    nodes_added: int
    providers_added: int

class Explanation:
    request_id: str
    nodes_total: int
    providers_total: int
    nodes_feasible: int
    providers_feasible: int
    matched: int
    eliminated: List[int]
    eliminated_only: List[int]
    misses: List[Miss]
    relaxations: List[Relaxation]
    candidates: List[Candidate]
    text: str
    model_table_version: int
    unknown_models: List[str]
    framework: str
    framework_cuda: int
    framework_cuda_nodes: int
    framework_cuda_best: int
    framework_cc_nodes: int
    framework_cc_lowest: int
    framework_alt: str

class Stats:
    providers: int
    nodes: int
    requests: int
    leases: int
    gpus_total: int
    gpus_free: int
    node_bytes: int
    request_bytes: int
    other_bytes: int

class Digests:
    offers: bytes
    requests: bytes
    policy: bytes

GPU_HELD_OFFER: int
GPU_HELD_REPORT: int

class GpuOwner:
    provider_key: bytes
    node_id: str
    how: int

class Placement:
    provider_key: bytes
    node_id: str
    gpus: int
    share_pct: int
    gpu_index: int
    price_micro_per_gpu_hour: int
    def __init__(self, provider_key: bytes = ..., node_id: str = ..., gpus: int = ..., share_pct: int = ...,
                 gpu_index: int = ..., price_micro_per_gpu_hour: int = ...) -> None: ...

class Assignment:
    request_id: str
    value: int
    placements: List[Placement]
    def __init__(self, request_id: str = ..., value: int = ..., placements: List[Placement] = ...) -> None: ...

class Receipt:
    seed: bytes
    policy_digest: bytes
    offers_digest: bytes
    requests_digest: bytes
    matched_at: int
    total_value: int
    request_count: int
    @property
    def assignments(self) -> List[Assignment]: ...
    def __len__(self) -> int: ...
    @classmethod
    def from_fields(cls, seed: bytes = ..., policy_digest: bytes = ..., offers_digest: bytes = ...,
                    requests_digest: bytes = ..., matched_at: int = ..., total_value: int = ...,
                    request_count: int = ..., assignments: Optional[List[Assignment]] = ...) -> Receipt: ...
    def validate(self) -> None: ...
    def encode(self) -> bytes: ...
    def digest(self) -> bytes: ...
    @classmethod
    def decode(cls, data: bytes) -> Receipt: ...
    def clear(self) -> None: ...

class Market(Handle):
    def __init__(self, options: Optional[MatchOptions] = ..., seed: Optional[bytes] = ...) -> None: ...
    def set_seed(self, seed: bytes) -> None: ...
    def set_options(self, options: MatchOptions) -> None: ...
    def put_offer(self, offer: Offer) -> None: ...
    def remove_offer(self, provider_key: bytes) -> None: ...
    def set_trust(self, provider_key: bytes, tier: int, score_ppm: int) -> None: ...
    def set_verified(self, provider_key: bytes, node_id: str, verified: bool = ...) -> None: ...
    def verify_report(self, provider_key: bytes, node_id: str, report: GpuReport) -> None: ...
    def gpu_owner(self, uuid: bytes) -> Optional[GpuOwner]: ...
    def add_request(self, request: Request) -> None: ...
    def remove_request(self, request_id: str) -> None: ...
    def end_lease(self, request_id: str) -> None: ...
    def stats(self) -> Stats: ...
    def digests(self) -> Digests: ...
    def best(self, request: Request, k: int = ...) -> List[Candidate]: ...
    def match(self, now: int, cancel: Optional[Cancel] = ...) -> Receipt: ...
    def apply(self, receipt: Receipt) -> None: ...
    def explain(self, request: Request) -> Explanation: ...

# ---- models ----

class NameKind(enum.IntEnum):
    UNKNOWN = ...
    ID = ...
    DRIVER = ...
    ALIAS = ...
    FAMILY = ...

def name_kind_name(kind: int) -> str: ...

class Model:
    id: str
    family: str
    vendor: str
    interface: int
    cc_major: int
    cc_minor: int
    sm_count: int
    boost_clock_mhz: int
    bus_width_bits: int
    memory_mib: int
    mem_bw_mbps: int
    fp32_gflops: int
    pci: Tuple[Tuple[int, int, int, int], ...]
    names: Tuple[str, ...]
    aliases: Tuple[str, ...]
    source: str
    def __init__(self, id: str, family: str, vendor: str, interface: int, cc_major: int, cc_minor: int,
                 sm_count: int, boost_clock_mhz: int, bus_width_bits: int, memory_mib: int, mem_bw_mbps: int,
                 fp32_gflops: int, pci: Tuple[Tuple[int, int, int, int], ...] = ..., names: Tuple[str, ...] = ...,
                 aliases: Tuple[str, ...] = ..., source: str = ...) -> None: ...

def model_table_version() -> int: ...
def model_table_digest() -> bytes: ...
def models() -> List[Model]: ...
def model_find(name: str) -> Optional[Model]: ...
def model_lookup(name: str) -> NameKind: ...
def model_family(name: str) -> List[Model]: ...
def model_find_pci(vendor: int, device: int, subsys_vendor: int = ..., subsys_device: int = ...) -> Optional[Model]: ...

class Framework:
    id: str
    framework: str
    version: str
    cuda_version: int
    archs: Tuple[int, ...]
    ptx_cc: int
    aliases: Tuple[str, ...]
    source: str
    def __init__(self, id: str, framework: str, version: str, cuda_version: int, archs: Tuple[int, ...] = ...,
                 ptx_cc: int = ..., aliases: Tuple[str, ...] = ..., source: str = ...) -> None: ...
    def supports_cc(self, cc_major: int, cc_minor: int) -> bool: ...

def framework_table_version() -> int: ...
def framework_table_digest() -> bytes: ...
def frameworks() -> List[Framework]: ...
def framework_find(name: str) -> Optional[Framework]: ...
