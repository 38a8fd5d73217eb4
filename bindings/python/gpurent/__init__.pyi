"""Type stub for the gpurent package (the Pythonic layer over gpurent.capi)."""
from typing import Any, Callable, ClassVar, Dict, Iterable, List, Optional, Type, TypeVar, Union
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
class MalformedError(WireError): ...
class TruncatedError(WireError): ...
class NonCanonicalError(WireError): ...
class OversizeError(WireError): ...
class InvalidFieldError(WireError): ...
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
    def __init__(self, model: str = ..., uuid: bytes = ..., pci_domain: int = ..., pci_bus: int = ...,
                 pci_device: int = ..., cc_major: int = ..., cc_minor: int = ..., sm_count: int = ...,
                 memory_mib: int = ..., clock_mhz: int = ..., mem_clock_mhz: int = ..., bus_width_bits: int = ...,
                 l2_kib: int = ..., ecc_enabled: int = ..., interface: int = ..., fp32_gflops: int = ...,
                 fp16_tensor_gflops: int = ..., mem_bw_mbps: int = ..., measured_fp32_gflops: int = ...,
                 measured_mem_bw_mbps: int = ..., cuda_version: int = ...) -> None: ...
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
    def __init__(self, request_id: str = ..., gpu_count: int = ..., gang_nodes: int = ..., gang_scope: int = ...,
                 vram_share_pct: int = ..., min_vram_mib: int = ..., min_cc: int = ..., min_fp32_gflops: int = ...,
                 interface: int = ..., min_cuda_version: int = ..., max_price_micro_per_gpu_hour: int = ...,
                 allowed_tiers: int = ..., duration_s: int = ..., verified_only: int = ..., cpu_millicores: int = ...,
                 ram_mib: int = ..., disk_gib: int = ..., submitted_at: int = ..., models: List[str] = ...,
                 regions: List[str] = ..., excluded_regions: List[str] = ..., providers: List[bytes] = ...,
                 excluded_providers: List[bytes] = ...) -> None: ...
    def validate(self) -> None: ...
    def encode(self) -> bytes: ...
    @classmethod
    def decode(cls, data: bytes) -> Request: ...

def check_canonical(data: bytes) -> None: ...
def record_type(data: bytes) -> int: ...
def record_type_name(rtype: int) -> str: ...

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

class TierEngine(Handle):
    def __init__(self, options: Optional[TierOptions] = ...) -> None: ...
    def era_of(self, time_s: int) -> int: ...
    def next_era(self) -> int: ...
    def provider_count(self) -> int: ...
    def provider_key(self, index: int) -> bytes: ...
    def providers(self) -> List[bytes]: ...
    def params_digest(self) -> bytes: ...
    def record(self, events: Iterable[TierEvent]) -> None: ...
    def record_report(self, report: Union[AuditReport, bytes]) -> None: ...
    def evaluate(self, era: Optional[int] = ..., cancel: Optional[Cancel] = ...) -> EraSummary: ...
    def slashes(self) -> List[Slash]: ...
    def slash(self, index: int) -> Slash: ...
    def explain(self, provider_key: bytes) -> TierExplanation: ...
    def certificate(self, provider_key: bytes) -> TierCert: ...

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
    def add_request(self, request: Request) -> None: ...
    def remove_request(self, request_id: str) -> None: ...
    def end_lease(self, request_id: str) -> None: ...
    def stats(self) -> Stats: ...
    def digests(self) -> Digests: ...
    def best(self, request: Request, k: int = ...) -> List[Candidate]: ...
    def match(self, now: int, cancel: Optional[Cancel] = ...) -> Receipt: ...
    def apply(self, receipt: Receipt) -> None: ...
    def explain(self, request: Request) -> Explanation: ...
