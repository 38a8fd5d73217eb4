"""Matchmaking: a :class:`Market` of offers and requests, the best
placements for one request, batch matching into a :class:`Receipt`, and
explanations of why a request does (not) fit.

Everything that decides a match is integer arithmetic on the market's state
and a shared 32-byte seed, so operators holding the same inputs compute
byte-identical receipts in C, Python and Go (docs/match.md).
"""
from __future__ import annotations

import dataclasses
import enum
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

from . import capi
from ._fields import set_fields, snake
from ._handle import Handle
from .errors import NotFoundError
from .wire import Offer, Request

if TYPE_CHECKING:
    from .probe import GpuReport  # noqa: F401

#: Bits of GpuOwner.how.
GPU_HELD_OFFER = capi.GPU_HELD_OFFER
GPU_HELD_REPORT = capi.GPU_HELD_REPORT

KEY_BYTES = 32


class Preset(enum.IntEnum):
    """Named weight presets (gpurent_match_preset)."""
    BALANCED = capi.MATCH_BALANCED
    CHEAPEST = capi.MATCH_CHEAPEST
    PERFORMANCE = capi.MATCH_PERFORMANCE
    TRUSTED = capi.MATCH_TRUSTED


class Constraint(enum.IntEnum):
    """The constraints a node can fail, in the order they are checked."""
    KIND = capi.MC_KIND
    MODEL = capi.MC_MODEL
    VRAM = capi.MC_VRAM
    CC = capi.MC_CC
    FP32 = capi.MC_FP32
    INTERFACE = capi.MC_INTERFACE
    CUDA = capi.MC_CUDA
    PRICE = capi.MC_PRICE
    TIER = capi.MC_TIER
    VERIFIED = capi.MC_VERIFIED
    REGION = capi.MC_REGION
    PROVIDER = capi.MC_PROVIDER
    DURATION = capi.MC_DURATION
    CPU = capi.MC_CPU
    RAM = capi.MC_RAM
    DISK = capi.MC_DISK
    GPUS = capi.MC_GPUS
    BUSY = capi.MC_BUSY
    GANG = capi.MC_GANG


def constraint_name(constraint: int) -> str:
    """Static name of a constraint ("vram"); "unknown" otherwise."""
    return capi.match_constraint_name(constraint)


def _fields_from_c(cls: Any, c: Any) -> Dict[str, Any]:
    return {f.name: getattr(c, f.name) for f in dataclasses.fields(cls)}


def _fields_to_c(obj: Any, c: Any) -> Any:
    return set_fields(c, obj, [f.name for f in dataclasses.fields(obj)], snake(type(obj).__name__))


def _options_defaults() -> Dict[str, int]:
    c = capi.match_options()
    capi.match_options_init(c, capi.MATCH_OPTIONS_VERSION)
    return {n: getattr(c, n) for n in ("w_price", "w_perf_price", "w_tier", "w_score", "w_stake", "w_locality",
                                         "w_fit", "threads")}


_OPT = _options_defaults()


@dataclass
class MatchOptions:
    """The matching policy (gpurent_match_options); defaults are the balanced
    preset. Weights are 0..1000; a zero cap or threshold means the documented
    default. Operators must agree on every field (its digest is in receipts)."""
    w_price: int = _OPT["w_price"]
    w_perf_price: int = _OPT["w_perf_price"]
    w_tier: int = _OPT["w_tier"]
    w_score: int = _OPT["w_score"]
    w_stake: int = _OPT["w_stake"]
    w_locality: int = _OPT["w_locality"]
    w_fit: int = _OPT["w_fit"]
    price_ref_micro: int = 0
    perf_price_cap: int = 0
    stake_cap_micro: int = 0
    aging_per_hour: int = 0
    strand_min_gpus: int = 0
    threads: int = _OPT["threads"]

    @classmethod
    def preset(cls, preset: int) -> "MatchOptions":
        """The defaults with the weights of a named :class:`Preset`."""
        c = capi.match_options()
        capi.match_options_init(c, capi.MATCH_OPTIONS_VERSION)
        capi.match_options_preset(c, int(preset))
        return cls(**_fields_from_c(cls, c))

    def _to_c(self) -> Any:
        c = capi.match_options()
        capi.match_options_init(c, capi.MATCH_OPTIONS_VERSION)
        return _fields_to_c(self, c)

    def validate(self) -> None:
        """Check every field's range; InvalidArgError names the field."""
        capi.match_options_validate(self._to_c())

    def digest(self) -> bytes:
        """The policy digest that goes into every receipt (32 bytes)."""
        out = bytearray(32)
        capi.match_options_digest(self._to_c(), out)
        return bytes(out)


@dataclass
class Breakdown:
    """A candidate's score, component by component (each already weighted)."""
    price: int = 0
    perf_price: int = 0
    tier: int = 0
    score: int = 0
    stake: int = 0
    locality: int = 0
    fit: int = 0
    total: int = 0
    tie_hash: int = 0


@dataclass
class Candidate:
    """One candidate placement; for a gang, the first node and the gang's
    breakdown."""
    provider_key: bytes = bytes(32)
    node_id: str = ""
    region: str = ""
    model: str = ""
    node_count: int = 0
    provider_count: int = 0
    price_micro_per_gpu_hour: int = 0
    breakdown: Breakdown = field(default_factory=Breakdown)

    @classmethod
    def _from_c(cls, c: Any) -> "Candidate":
        b = c.breakdown
        return cls(provider_key=c.provider_key, node_id=c.node_id, region=c.region, model=c.model,
                   node_count=c.node_count, provider_count=c.provider_count,
                   price_micro_per_gpu_hour=c.price_micro_per_gpu_hour,
                   breakdown=Breakdown(**_fields_from_c(Breakdown, b)))


@dataclass
class Miss:
    """A node that failed few constraints (``failed_mask`` bit c =
    :class:`Constraint` c)."""
    provider_key: bytes = bytes(32)
    node_id: str = ""
    failed_mask: int = 0
    failed_count: int = 0
    total: int = 0

    @property
    def failed(self) -> List[Constraint]:
        """The constraints it failed."""
        return [c for c in Constraint if self.failed_mask >> int(c) & 1]


@dataclass
class Relaxation:
    """A change to one constraint of the request that makes it feasible
    (``from_value`` -> ``to_value``, or ``item`` added to a list)."""
    constraint: int = 0
    from_value: int = 0
    to_value: int = 0
    change_pct: int = 0
    item: str = ""
    nodes_added: int = 0
    providers_added: int = 0


@dataclass
class Explanation:
    """What the market makes of a request (gpurent_match_explain): counts,
    the nearest misses and relaxations when nothing fits, the winner and
    runner-up when it does. ``eliminated[c]`` counts nodes failing
    :class:`Constraint` c. ``text`` is the library's rendering."""
    request_id: str = ""
    nodes_total: int = 0
    providers_total: int = 0
    nodes_feasible: int = 0
    providers_feasible: int = 0
    matched: int = 0
    eliminated: List[int] = field(default_factory=list)
    eliminated_only: List[int] = field(default_factory=list)
    misses: List[Miss] = field(default_factory=list)
    relaxations: List[Relaxation] = field(default_factory=list)
    candidates: List[Candidate] = field(default_factory=list)
    text: str = ""
    model_table_version: int = 0
    unknown_models: List[str] = field(default_factory=list)
    framework: str = ""
    framework_cuda: int = 0
    framework_cuda_nodes: int = 0
    framework_cuda_best: int = 0
    framework_cc_nodes: int = 0
    framework_cc_lowest: int = 0
    framework_alt: str = ""

    @classmethod
    def _from_c(cls, c: Any) -> "Explanation":
        return cls(
            request_id=c.request_id, nodes_total=c.nodes_total, providers_total=c.providers_total,
            nodes_feasible=c.nodes_feasible, providers_feasible=c.providers_feasible, matched=c.matched,
            eliminated=[c.eliminated_at(i) for i in range(capi.MC_COUNT)],
            eliminated_only=[c.eliminated_only_at(i) for i in range(capi.MC_COUNT)],
            misses=[Miss(**_fields_from_c(Miss, c.miss_at(i))) for i in range(c.miss_count)],
            relaxations=[Relaxation(**_fields_from_c(Relaxation, c.relax_at(i))) for i in range(c.relax_count)],
            candidates=[Candidate._from_c(c.candidate_at(i)) for i in range(c.candidate_count)],
            text=capi.match_explain_text(c).decode("utf-8", "replace"),
            model_table_version=c.model_table_version,
            unknown_models=[c.unknown_model_at(i) for i in range(c.unknown_model_count)],
            framework=c.framework, framework_cuda=c.framework_cuda, framework_cuda_nodes=c.framework_cuda_nodes,
            framework_cuda_best=c.framework_cuda_best, framework_cc_nodes=c.framework_cc_nodes,
            framework_cc_lowest=c.framework_cc_lowest, framework_alt=c.framework_alt,
        )


@dataclass
class Stats:
    """Counts and memory of a market (gpurent_market_stats)."""
    providers: int = 0
    nodes: int = 0
    requests: int = 0
    leases: int = 0
    gpus_total: int = 0
    gpus_free: int = 0
    node_bytes: int = 0
    request_bytes: int = 0
    other_bytes: int = 0


@dataclass
class Digests:
    """The market's input digests as they go into a receipt."""
    offers: bytes
    requests: bytes
    policy: bytes


@dataclass
class GpuOwner:
    """The node holding a GPU (gpurent_gpu_owner): ``how`` has bit
    GPU_HELD_OFFER (its offer lists the UUID) and/or GPU_HELD_REPORT (its
    verified GPU report does)."""
    provider_key: bytes
    node_id: str
    how: int


@dataclass
class Placement:
    """One node's part of an assignment."""
    provider_key: bytes = bytes(32)
    node_id: str = ""
    gpus: int = 0
    share_pct: int = 0
    gpu_index: int = 0
    price_micro_per_gpu_hour: int = 0


@dataclass
class Assignment:
    """One matched request and its placements."""
    request_id: str = ""
    value: int = 0
    placements: List[Placement] = field(default_factory=list)


_RECEIPT_SCALARS = ("seed", "policy_digest", "offers_digest", "requests_digest", "matched_at", "total_value",
                    "request_count")


class Receipt:
    """The result of a batch match (gpurent_match_receipt), held as the C
    record: ``encode()`` / ``digest()`` / :meth:`Market.apply` cost no
    conversion; ``assignments`` converts on first use. Build one from fields
    with :meth:`from_fields`, from bytes with :meth:`decode`. Equal receipts
    have equal bytes (``==`` compares the encodings)."""

    __slots__ = ("_c", "_assignments")

    def __init__(self, _c: Any = None) -> None:
        if _c is None:
            _c = capi.match_receipt()  # frees its arrays when collected
        self._c = _c
        self._assignments: Optional[List[Assignment]] = None

    seed = property(lambda self: self._c.seed, doc="Tie-breaking seed (32 bytes).")
    policy_digest = property(lambda self: self._c.policy_digest, doc="Digest of the policy.")
    offers_digest = property(lambda self: self._c.offers_digest, doc="Digest of the offers.")
    requests_digest = property(lambda self: self._c.requests_digest, doc="Digest of the pending requests.")
    matched_at = property(lambda self: self._c.matched_at, doc="The batch clock, Unix seconds.")
    total_value = property(lambda self: self._c.total_value, doc="Sum of the assignments' values.")
    request_count = property(lambda self: self._c.request_count, doc="Pending requests considered.")

    @property
    def assignments(self) -> List[Assignment]:
        """The matched requests, sorted by request_id (converted once)."""
        if self._assignments is None:
            c = self._c
            out = []
            pfields = [f.name for f in dataclasses.fields(Placement)]
            for i in range(c.assignment_count):
                a = capi.match_receipt_assignment(c, i)
                first = a.first_placement
                pl = []
                for j in range(a.placement_count):
                    p = capi.match_receipt_placement(c, first + j)
                    pl.append(Placement(**{n: getattr(p, n) for n in pfields}))
                out.append(Assignment(request_id=a.request_id, value=a.value, placements=pl))
            self._assignments = out
        return self._assignments

    def __len__(self) -> int:
        return self._c.assignment_count

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Receipt) and self.encode() == other.encode()

    def __repr__(self) -> str:
        return (f"Receipt(matched_at={self.matched_at}, assignments={len(self)}, "
                f"total_value={self.total_value}, request_count={self.request_count})")

    @classmethod
    def from_fields(cls, seed: bytes = bytes(32), policy_digest: bytes = bytes(32),
                    offers_digest: bytes = bytes(32), requests_digest: bytes = bytes(32), matched_at: int = 0,
                    total_value: int = 0, request_count: int = 0,
                    assignments: Optional[List[Assignment]] = None) -> "Receipt":
        """A receipt from its fields (not validated here: encode() and
        validate() check it)."""
        assignments = list(assignments or [])
        r = cls()
        c = r._c
        if c.reserve(len(assignments), sum(len(a.placements) for a in assignments)) != 0:
            raise MemoryError("receipt too large for its record limits or for memory")
        c.seed, c.policy_digest, c.offers_digest, c.requests_digest = (seed, policy_digest, offers_digest,
                                                                       requests_digest)
        c.matched_at, c.total_value, c.request_count = matched_at, total_value, request_count
        k = 0
        for i, a in enumerate(assignments):
            ca = c.assignment_ref(i)
            ca.request_id, ca.value = a.request_id, a.value
            ca.first_placement, ca.placement_count = k, len(a.placements)
            for p in a.placements:
                _fields_to_c(p, c.placement_ref(k))
                k += 1
        return r

    def validate(self) -> None:
        """Check ranges, order, placement ranges and the total."""
        capi.match_receipt_validate(self._c)

    def encode(self) -> bytes:
        """The canonical bytes (validated first)."""
        return capi.match_receipt_encode(self._c)

    def digest(self) -> bytes:
        """BLAKE2b-256 of the canonical encoding."""
        out = bytearray(32)
        capi.match_receipt_digest(self._c, out)
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> "Receipt":
        """Decode and validate untrusted bytes."""
        c = capi.match_receipt()
        capi.match_receipt_init(c)
        capi.match_receipt_decode(data, c)
        return cls(c)

    def clear(self) -> None:
        """Release the assignments now (the receipt becomes empty)."""
        capi.match_receipt_clear(self._c)
        self._assignments = None


def _cptr(cancel: Any) -> Any:
    return None if cancel is None else cancel.ptr


class Market(Handle):
    """A market: offers, their indexed nodes, pending requests and leases.

    ``Market(options, seed)``; use ``with`` or ``close()``. One market must not
    be used from two threads at once unless every call is read-only
    (best, explain, stats, digests). Batch :meth:`match`, :meth:`explain` and
    :meth:`best` release the GIL."""

    _free = staticmethod(capi.market_free)

    def __init__(self, options: Optional[MatchOptions] = None, seed: Optional[bytes] = None) -> None:
        # No seed: 32 zero bytes, as the library does for NULL.
        super().__init__(capi.market_new(None if options is None else options._to_c(),
                                         bytes(32) if seed is None else seed))

    # ---- snapshots (docs/snapshots.md) ----

    def save(self, input_seq: int = 0) -> bytes:
        """The market's whole state (policy, seed, offers, requests, leases)
        as a snapshot recording ``input_seq``: the last input of your ordered
        log it reflects. A market loaded from it gives byte-identical
        receipts, explanations and digests."""
        return capi.market_save(self.ptr, input_seq)

    def save_file(self, path: Union[str, "os.PathLike[str]"], input_seq: int = 0) -> None:
        """:meth:`save` into ``path`` crash-safely (temporary file in the same
        folder, fsync, rename, folder fsync)."""
        capi.market_save_file(self.ptr, input_seq, os.fspath(path))

    @classmethod
    def load(cls, data: bytes, expect: Optional[MatchOptions] = None) -> "Tuple[Market, int]":
        """A market from :meth:`save` bytes and the input sequence it
        recorded. Nothing is trusted: SnapshotCorruptError, ...TruncatedError,
        ...KindError, ...VersionError, or ...ParamsError (the snapshot's
        policy differs from ``expect``) and nothing is loaded."""
        ptr, seq = capi.market_load(data, None if expect is None else expect._to_c())
        return cls._adopt(ptr), seq

    @classmethod
    def load_file(cls, path: Union[str, "os.PathLike[str]"],
                  expect: Optional[MatchOptions] = None) -> "Tuple[Market, int]":
        """:meth:`load` from the file at ``path`` (IOFailedError when unreadable)."""
        ptr, seq = capi.market_load_file(os.fspath(path), None if expect is None else expect._to_c())
        return cls._adopt(ptr), seq

    @classmethod
    def _adopt(cls, ptr: Any) -> "Market":
        market = cls.__new__(cls)
        Handle.__init__(market, ptr)
        return market

    def set_seed(self, seed: bytes) -> None:
        """Replace the 32-byte tie-breaking seed."""
        capi.market_set_seed(self.ptr, seed)

    def set_options(self, options: MatchOptions) -> None:
        """Replace the policy (every node is re-scored)."""
        capi.market_set_options(self.ptr, options._to_c())

    def put_offer(self, offer: Offer) -> None:
        """Add a provider's offer, or replace its previous one (higher seq)."""
        capi.market_put_offer(self.ptr, offer._to_c())

    def remove_offer(self, provider_key: bytes) -> None:
        """Remove a provider and its nodes (UnknownOfferError if absent)."""
        capi.market_remove_offer(self.ptr, provider_key)

    def set_trust(self, provider_key: bytes, tier: int, score_ppm: int) -> None:
        """Set a provider's tier (1 best .. 7, 0 unknown) and score (ppm)."""
        capi.market_set_trust(self.ptr, provider_key, tier, score_ppm)

    def set_verified(self, provider_key: bytes, node_id: str, verified: bool = True) -> None:
        """Mark whether a node's GPU report was verified."""
        capi.market_set_verified(self.ptr, provider_key, node_id, 1 if verified else 0)

    def verify_report(self, provider_key: bytes, node_id: str, report: "GpuReport") -> None:
        """Mark a node verified by its GPU report (already verified as
        signed) and bind the node's GPUs to the report's UUIDs. Raises
        InvalidArgError when it is not the report the node names,
        GpuConflictError when a UUID of it is held elsewhere or the node
        offers a GPU it does not list."""
        capi.market_verify_report(self.ptr, provider_key, node_id, report._to_c())

    def gpu_owner(self, uuid: bytes) -> Optional[GpuOwner]:
        """The node holding the GPU ``uuid`` (16 bytes), None when no node does."""
        c = capi.gpu_owner()
        try:
            capi.market_gpu_owner(self.ptr, uuid, c)
        except NotFoundError:
            return None
        return GpuOwner(bytes(c.provider_key), c.node_id, c.how)

    def add_request(self, request: Request) -> None:
        """Add a pending request (ExistsError if its id is pending or leased)."""
        capi.market_add_request(self.ptr, request._to_c())

    def remove_request(self, request_id: str) -> None:
        """Remove a pending request (UnknownRequestError if not pending)."""
        capi.market_remove_request(self.ptr, request_id)

    def end_lease(self, request_id: str) -> None:
        """End the lease a receipt created: its GPUs return."""
        capi.market_end_lease(self.ptr, request_id)

    def stats(self) -> Stats:
        """Counts and memory of the market."""
        c = capi.market_stats()
        capi.market_stats_get(self.ptr, c)
        return Stats(**_fields_from_c(Stats, c))

    def digests(self) -> Digests:
        """Digests of the offers, pending requests and policy."""
        o, r, p = bytearray(32), bytearray(32), bytearray(32)
        capi.market_digests(self.ptr, o, r, p)
        return Digests(bytes(o), bytes(r), bytes(p))

    def best(self, request: Request, k: int = 1) -> List[Candidate]:
        """The best ``k`` (1..64) placements for ``request``, best first
        (empty when nothing is feasible). The request need not be pending."""
        # k outside 1..64 is refused by the library (InvalidArgError); the
        # array is sized within that range either way.
        arr = capi.match_candidate_array(max(1, min(k, capi.MATCH_MAX_K)))
        n = capi.market_best(self.ptr, request._to_c(), k, arr.cast())
        return [Candidate._from_c(arr.ref(i)) for i in range(n)]

    def match(self, now: int, cancel: Any = None) -> Receipt:
        """Assign the pending requests to the free capacity at clock ``now``
        (Unix seconds). The market is unchanged: :meth:`apply` the receipt."""
        r = Receipt()
        capi.market_match(self.ptr, now, _cptr(cancel), r._c)
        return r

    def apply(self, receipt: Receipt) -> None:
        """Apply a receipt computed on this very state (InvalidArgError otherwise)."""
        capi.market_apply(self.ptr, receipt._c)

    def explain(self, request: Request) -> Explanation:
        """Explain ``request`` against the free capacity (a full scan)."""
        c = capi.match_explain()
        capi.market_explain(self.ptr, request._to_c(), c)
        return Explanation._from_c(c)
