"""Record fields: their meaning and units (for help()), and the conversion
of a field's Python value to its C member that reports a bad value as a
gpurent error naming the field.

Every record dataclass copies its fields into a SWIG struct before a call.
SWIG refuses a value its C type cannot hold with a bare ``OverflowError`` or
``TypeError`` ("in method 'request_gpu_count_set', argument 2 of type
'uint32_t'"); :func:`set_fields` turns that into
:class:`gpurent.FieldRangeError` (an ``InvalidFieldError``, so a
``WireError`` and a ``ValueError``) or :class:`gpurent.FieldTypeError` (also
a ``TypeError``), whose detail names the record and field as the library's
own validation does ("request.gpu_count: -1 is out of range for uint32_t
(0..4294967295)").
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Optional, Tuple

from . import capi
from .errors import FieldRangeError, FieldTypeError, InvalidFieldError

_UINT = {"uint8_t": 8, "uint16_t": 16, "uint32_t": 32, "uint64_t": 64, "unsigned int": 32, "size_t": 64,
         "unsigned long": 64, "unsigned long long": 64}
_INT = {"int8_t": 8, "int16_t": 16, "int32_t": 32, "int64_t": 64, "int": 32, "long": 64, "long long": 64}
_SWIG_TYPE = re.compile(r"of type '([^']+)'")


def _range(ctype: str) -> Optional[Tuple[int, int]]:
    if ctype in _UINT:
        return 0, (1 << _UINT[ctype]) - 1
    if ctype in _INT:
        b = _INT[ctype] - 1
        return -(1 << b), (1 << b) - 1
    return None


def field_error(path: str, name: str, value: Any, exc: BaseException) -> Exception:
    """The gpurent error for ``value`` refused by the C member ``name``."""
    m = _SWIG_TYPE.search(str(exc))
    ctype = m.group(1).strip() if m else ""
    rng = _range(ctype)
    st = capi.E_INVALID_FIELD
    where = f"{path}.{name}" if path else name
    if rng is not None and isinstance(value, int) and not isinstance(value, bool):
        detail = f"{where}: {value} is out of range for {ctype} ({rng[0]}..{rng[1]})"
        return FieldRangeError(st, capi.status_name(st), capi.strerror(st), detail)
    if rng is not None:
        want = "expected an int"
    elif "char" in ctype:
        want = "expected str"
    elif ctype:
        want = f"expected {ctype}"
    else:  # a typemap's own message: "request_request_id_set: expected str"
        want = str(exc).split(": ", 1)[-1]
    detail = f"{where}: {want}, got {type(value).__name__} {value!r:.60}"
    return FieldTypeError(st, capi.status_name(st), capi.strerror(st), detail)


def wrong_type(path: str, name: str, value: Any, want: str) -> Exception:
    """The FieldTypeError for a nested record or list item of the wrong type."""
    st = capi.E_INVALID_FIELD
    detail = f"{path}.{name}: expected {want}, got {type(value).__name__} {value!r:.60}"
    return FieldTypeError(st, capi.status_name(st), capi.strerror(st), detail)


def set_field(c: Any, path: str, name: str, value: Any) -> None:
    """``setattr(c, name, value)``, a refused value raising a gpurent error."""
    try:
        setattr(c, name, value)
    except (OverflowError, TypeError) as e:
        raise field_error(path, name, value, e) from None
    except ValueError as e:  # bytes of the wrong length (lang_python.i)
        if isinstance(e, InvalidFieldError) or "expected" not in str(e):
            raise
        st = capi.E_INVALID_FIELD
        raise FieldRangeError(st, capi.status_name(st), capi.strerror(st),
                              f"{path}.{name}: {str(e).split(': ', 1)[-1]}") from None


def set_fields(c: Any, obj: Any, names: Iterable[str], path: str) -> Any:
    """Copy the fields ``names`` of ``obj`` into the C struct ``c``."""
    for n in names:
        set_field(c, path, n, getattr(obj, n))
    return c


def call_with(path: str, name: str, value: Any, fn: Any, *args: Any) -> Any:
    """Call a capi helper that takes a field value (request_add_model, ...),
    a refused value raising a gpurent error naming ``path.name``."""
    try:
        return fn(*args)
    except (OverflowError, TypeError) as e:
        if "in method" not in str(e):
            raise
        raise field_error(path, name, value, e) from None


# ---- what each field means, with its unit (help() shows these) ----

FIELD_DOCS: Dict[str, Dict[str, str]] = {
    "GPU": {
        "model": f"str, non-empty, at most {capi.NAME_MAX - 1} bytes: the model name, e.g. \"H100 SXM5 80GB\"",
        "uuid": "16 bytes: the device UUID (zeros if unknown)",
        "pci_domain": "int: PCI domain",
        "pci_bus": "int: PCI bus, 0..255",
        "pci_device": "int: PCI device, 0..31",
        "cc_major": "int: compute capability, major part, 1..99",
        "cc_minor": "int: compute capability, minor part, 0..9",
        "sm_count": "int: streaming multiprocessors",
        "memory_mib": "int, MiB: total device memory",
        "clock_mhz": "int, MHz: maximum boost core clock",
        "mem_clock_mhz": "int, MHz: memory clock",
        "bus_width_bits": "int, bits: memory bus width",
        "l2_kib": "int, KiB: L2 cache",
        "ecc_enabled": "int, 0 or 1: ECC memory on",
        "interface": "int (Interface): ANY, PCIE or SXM",
        "fp32_gflops": "int, GFLOPS: derived FP32 peak",
        "fp16_tensor_gflops": "int, GFLOPS: derived FP16 tensor peak, dense",
        "mem_bw_mbps": "int, MB/s: derived memory bandwidth peak",
        "measured_fp32_gflops": "int, GFLOPS: measured by an active check (0 = not measured)",
        "measured_mem_bw_mbps": "int, MB/s: measured by an active check (0 = not measured)",
        "cuda_version": "int: highest CUDA version the driver supports, 12040 = 12.4",
        "pci_vendor_id": "int: PCI vendor id of the product, 0x10de NVIDIA (0 = not known; left out of the bytes)",
        "pci_device_id": "int: PCI device id of the product, 0x2330 H100 SXM5 80GB (0 = not known)",
        "pci_subsystem_vendor_id": "int: PCI subsystem vendor id, the board maker (0 = not known)",
        "pci_subsystem_device_id": "int: PCI subsystem device id (0 = not known)",
    },
    "Node": {
        "node_id": "str, non-empty, unique within the offer",
        "gpu": "GPU: the node's GPU model (every GPU of a node is the same)",
        "gpu_count": f"int: GPUs on the node, 1..{capi.NODE_MAX_GPUS}",
        "gpu_free": "int: GPUs free to rent, at most gpu_count",
        "shared": "int, 0 or 1: a community node renting shares of GPU memory",
        "cpu_millicores": "int, 1/1000 core: free CPU (1000 = one core)",
        "ram_mib": "int, MiB: free RAM",
        "disk_gib": "int, GiB: free disk",
        "price_micro_per_gpu_hour": "int, 1e-6 currency units: price of one GPU for one hour",
        "report_digest": "32 bytes: digest of the node's signed GPU report (zeros = none)",
    },
    "Offer": {
        "provider_key": "32 bytes: the provider's Ed25519 public key",
        "seq": "int: a higher seq replaces the provider's previous offer",
        "region": f"str, non-empty, at most {capi.REGION_MAX - 1} bytes: where the nodes are, e.g. \"eu-west\"",
        "stake_micro": "int, 1e-6 currency units: the provider's stake",
        "min_duration_s": "int, seconds: shortest lease accepted",
        "max_duration_s": "int, seconds: longest lease accepted (0 = no maximum)",
        "nodes": f"list of Node: 1..{capi.OFFER_MAX_NODES} nodes, ids unique",
    },
    "Request": {
        "request_id": "str, non-empty: names the request in receipts",
        "gpu_count": f"int: total GPUs wanted, 1..{capi.REQUEST_MAX_GPUS}",
        "gang_nodes": "int: nodes the GPUs span (divides gpu_count; 1 = one node)",
        "gang_scope": "int (GangScope): NODE, PROVIDER or REGION, where a gang must sit",
        "vram_share_pct": "int, percent: 0 = whole GPUs; 1..100 = a share of one GPU's memory",
        "min_vram_mib": "int, MiB: least memory per GPU (0 = any)",
        "min_cc": "int: least compute capability x10 (86 = 8.6; 0 = any)",
        "min_fp32_gflops": "int, GFLOPS: least FP32 speed per GPU, measured if known else peak (0 = any)",
        "interface": "int (Interface): required form factor (ANY = any)",
        "min_cuda_version": "int: least CUDA version, 12040 = 12.4 (0 = any)",
        "max_price_micro_per_gpu_hour": "int, 1e-6 currency units per GPU-hour: price cap (0 = no cap)",
        "allowed_tiers": "int, bitmask: bit t set = providers of tier t (1..7) allowed; 0 = any",
        "duration_s": f"int, seconds: lease length, 1..{capi.MAX_DURATION_S} (one year)",
        "verified_only": "int, 0 or 1: only nodes whose GPU report was verified",
        "cpu_millicores": "int, 1/1000 core: CPU needed per node",
        "ram_mib": "int, MiB: RAM needed per node",
        "disk_gib": "int, GiB: disk needed per node",
        "submitted_at": "int, Unix seconds: when the request was made (older requests go first)",
        "models": f"list of str, at most {capi.REQUEST_MAX_LIST}: allowed GPU models (empty = any)",
        "regions": f"list of str, at most {capi.REQUEST_MAX_LIST}: allowed regions (empty = any)",
        "excluded_regions": "list of str: regions never used",
        "providers": f"list of 32-byte keys, at most {capi.REQUEST_MAX_LIST}: allowed providers (empty = any)",
        "excluded_providers": "list of 32-byte keys: providers never used",
        "framework": "str: a framework build the node must run (\"torch 2.5+cu124\", see framework_find; \"\" = none)",
    },
    "Envelope": {
        "statement": "int (RecordType): the record type of the payload",
        "issuer": "32 bytes: the author's Ed25519 public key (set by signing)",
        "issued_at": "int, Unix seconds: when the statement was made",
        "expires_at": "int, Unix seconds: when it stops being valid (after issued_at)",
        "nonce": "16 bytes: makes each statement unique (zeros = a random one when signing)",
        "subject": f"bytes, at most {capi.SUBJECT_MAX}: what the statement is about (a node id, a key, a digest)",
        "payload_len": "int, bytes: filled by decode, ignored when signing",
        "signature_count": "int: filled by decode, ignored when signing",
    },
    "Revocation": {
        "key": "32 bytes: the revoked Ed25519 public key",
        "revoked_at": "int, Unix seconds: when the key stopped being trusted",
        "reason": "int (RevocationReason): why (informational)",
    },
    "Challenge": {
        "time_s": "int, Unix seconds: when the challenge was sent (not after the report's time_s)",
        "kind": "int (ChallengeKind): GPU or CPU",
        "passed": "int, 0 or 1: answered correctly in time",
    },
    "Job": {
        "job_id": "str, non-empty, unique within the report",
        "end_s": "int, Unix seconds: when the job ended (not after the report's time_s)",
        "outcome": "int (JobOutcome)",
    },
    "AuditReport": {
        "provider_key": "32 bytes: the provider audited",
        "auditor_key": "32 bytes: the auditor (not the provider)",
        "time_s": "int, Unix seconds: when the report was made (decides its era)",
        "gpu_report": "int (CheckResult): the provider's GPU report re-verified",
        "integrity": "int (CheckResult): integrity check",
        "security": "int (CheckResult): security check",
        "gpu_report_digest": "32 bytes: digest of the GPU report checked (zeros = none)",
        "stake_observed": "int, 0 or 1: stake_micro holds the stake seen at time_s",
        "stake_micro": "int, 1e-6 currency units: the stake seen (0 unless stake_observed)",
        "challenges": "list of Challenge: liveness challenges and their results (a set)",
        "jobs": "list of Job: job outcomes observed (a set)",
    },
    "TierCert": {
        "provider_key": "32 bytes: the provider certified",
        "era": "int: the era evaluated",
        "tier": f"int: 1 (most trusted) .. the engine's tier count (at most {capi.TIER_MAX_TIERS})",
        "incubating": "int, 0 or 1: has not yet left incubation",
        "score_ppm": "int, parts per million: lower-bound score, 0..1000000",
        "mean_ppm": "int, parts per million: point-estimate score (at least score_ppm)",
        "confidence_ppm": "int, parts per million: floor(score_ppm * 10**6 / mean_ppm), 0 when mean_ppm is 0 "
                          "(derived: any other value is refused)",
        "uptime_ppm": "int, parts per million: weighted challenge pass rate of the era",
        "eras_in_tier": "int, eras: served in this tier so far",
        "points_ppm": "int, parts per million: the tier's points multiplier x 1e6",
        "evidence_digest": "32 bytes: BLAKE2b-256 of the evidence (docs/tiers.md)",
        "params_digest": "32 bytes: BLAKE2b-256 of the engine parameters",
        "auditors": "list of 32-byte keys: the auditors whose reports counted (ascending, unique)",
    },
    "TierEvent": {
        "provider_key": "32 bytes: the provider the evidence is about",
        "time_s": "int, Unix seconds: when it happened (decides its era)",
        "kind": "int (EventKind): GPU_CHALLENGE, CPU_CHALLENGE, JOB or STAKE",
        "value": "int: 1 passed / 0 failed for challenges, a JobOutcome for jobs, 1e-6 units for stake",
    },
    "GpuReport": {
        "nonce": "32 bytes: the verifier's challenge the report is bound to",
        "probed_at": "int, Unix seconds: when the probe ran",
        "status": "int: 0, or the negative status saying why the report is empty or partial",
        "driver_error": "int: the CUresult behind status (0 = none)",
        "reason": "str: human-readable; non-empty unless status is 0",
        "driver_version": "PV: cuDriverGetVersion, 12040 = 12.4",
        "driver_path": "str: the driver file actually loaded (empty = none)",
        "driver_digest": "32 bytes: BLAKE2b-256 of that file (zeros = none)",
        "ld_preload_set": "int, 0 or 1: LD_PRELOAD was set",
        "cuda_visible_devices_set": "int, 0 or 1: CUDA_VISIBLE_DEVICES was set",
        "driver_device_count": "int: devices the driver listed",
        "checks": "int, bitmask: active checks requested (CHECK_* bits)",
        "devices": "list of ProbeDevice: the devices, in PCI bus id order",
    },
}


def snake(name: str) -> str:
    """AuditReport -> audit_report: the C name used in error details."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def document(cls: Any) -> Any:
    """Append a "Fields" section (name, wire key, meaning and unit) to a
    record class's docstring, from FIELD_DOCS. Every field must be there."""
    import dataclasses
    import inspect
    docs = FIELD_DOCS[cls.__name__]
    lines = [inspect.cleandoc(cls.__doc__ or cls.__name__), "",
             "Fields ([wire key] type, unit: meaning). Values are checked when the record",
             "is converted for a call (validate, encode, sign, ...): a value its C type",
             "cannot hold raises FieldRangeError or FieldTypeError naming the field.", ""]
    for f in dataclasses.fields(cls):
        key = f.metadata.get("key")
        where = f"[key {key}] " if key is not None else ""
        lines.append(f"  {f.name}: {where}{docs[f.name]}")
    cls.__doc__ = "\n".join(lines) + "\n"
    return cls
