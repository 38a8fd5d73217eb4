"""Match bindings: the market as a handle, top-k, batch receipts as bytes,
explanations, options, and bad input."""
import time

import pytest

import gpurent
from gil_spinner import spinner

KEYS = [bytes([i + 1]) * 32 for i in range(4)]
H100 = gpurent.GPU(model="H100", cc_major=9, memory_mib=81559, interface=gpurent.Interface.SXM, fp32_gflops=66900,
                   cuda_version=12040)
T0 = 1760000000


def offer(p, nodes=2, price=2_000_000, gpus=8, region="eu-west", seq=1):
    return gpurent.Offer(provider_key=KEYS[p], seq=seq, region=region, stake_micro=10**9 * (p + 1), nodes=[
        gpurent.Node(node_id=f"n{i}", gpu=H100, gpu_count=gpus, gpu_free=gpus, cpu_millicores=64000, ram_mib=512000,
                     disk_gib=1000, price_micro_per_gpu_hour=price + 1000 * p + i) for i in range(nodes)])


def req(rid, gpus=8, **kw):
    return gpurent.Request(request_id=rid, gpu_count=gpus, submitted_at=T0, **kw)


@pytest.fixture
def market():
    with gpurent.Market(gpurent.MatchOptions(), bytes(range(32))) as m:
        for p in range(3):
            m.put_offer(offer(p))
            m.set_trust(KEYS[p], p + 1, 900_000 - 100_000 * p)
        yield m


def test_options_presets_digest_and_validation():
    o = gpurent.MatchOptions()
    o.validate()
    assert o == gpurent.MatchOptions.preset(gpurent.Preset.BALANCED)
    cheap = gpurent.MatchOptions.preset(gpurent.Preset.CHEAPEST)
    assert cheap.w_price > o.w_price
    assert len(o.digest()) == 32 and o.digest() != cheap.digest()
    # zero caps mean their defaults, so these agree
    assert gpurent.MatchOptions(price_ref_micro=1_000_000).digest() == o.digest()
    with pytest.raises(gpurent.InvalidArgError) as e:
        gpurent.MatchOptions(w_price=1001).validate()
    assert "w_price" in e.value.detail
    with pytest.raises(gpurent.InvalidArgError):
        gpurent.MatchOptions.preset(99)
    with pytest.raises(gpurent.InvalidArgError):
        gpurent.MatchOptions(w_price=0, w_perf_price=0, w_tier=0, w_score=0, w_stake=0, w_locality=0,
                             w_fit=0).digest()


def test_best_stats_and_digests(market):
    st = market.stats()
    assert (st.providers, st.nodes, st.gpus_total, st.gpus_free) == (3, 6, 48, 48) and st.node_bytes > 0
    cands = market.best(req("q"), k=3)
    assert len(cands) == 3
    assert [c.breakdown.total for c in cands] == sorted((c.breakdown.total for c in cands), reverse=True)
    assert all(c.model == "H100" and c.region == "eu-west" and c.node_count == 1 for c in cands)
    b = cands[0].breakdown
    assert b.total == b.price + b.perf_price + b.tier + b.score + b.stake + b.locality + b.fit
    assert market.best(req("big", gpus=9)) == []
    with pytest.raises(gpurent.InvalidArgError):
        market.best(req("q"), k=0)
    with pytest.raises(gpurent.InvalidArgError):
        market.best(req("q"), k=65)
    d = market.digests()
    assert d.policy == gpurent.MatchOptions().digest() and len(d.offers) == 32
    market.set_seed(bytes(32))
    market.set_options(gpurent.MatchOptions.preset(gpurent.Preset.TRUSTED))
    assert market.digests().policy == gpurent.MatchOptions.preset(gpurent.Preset.TRUSTED).digest()
    # trust decides first place under the trusted preset
    assert market.best(req("q"))[0].provider_key == KEYS[0]


def test_batch_receipt_apply_and_leases(market):
    market.add_request(req("a"))
    market.add_request(req("gang", gpus=16, gang_nodes=2, gang_scope=gpurent.GangScope.PROVIDER))
    market.add_request(req("nope", gpus=64))
    r = market.match(T0 + 600)
    assert isinstance(r, gpurent.Receipt) and len(r) == 2 and r.request_count == 3
    assert [a.request_id for a in r.assignments] == ["a", "gang"]
    assert sum(a.value for a in r.assignments) == r.total_value
    gang = r.assignments[1]
    assert len(gang.placements) == 2 and len({p.provider_key for p in gang.placements}) == 1
    assert r.matched_at == T0 + 600 and r.seed == bytes(range(32))
    assert r.offers_digest == market.digests().offers and r.policy_digest == market.digests().policy
    data = r.encode()
    assert gpurent.record_type(data) == gpurent.RecordType.MATCH_RECEIPT
    back = gpurent.Receipt.decode(data)
    assert back == r and back.digest() == r.digest() and len(r.digest()) == 32
    rebuilt = gpurent.Receipt.from_fields(seed=r.seed, policy_digest=r.policy_digest, offers_digest=r.offers_digest,
                                          requests_digest=r.requests_digest, matched_at=r.matched_at,
                                          total_value=r.total_value, request_count=r.request_count,
                                          assignments=r.assignments)
    assert rebuilt.encode() == data
    rebuilt.validate()
    market.apply(back)
    st = market.stats()
    assert st.leases == 2 and st.requests == 1 and st.gpus_free == 48 - 24
    with pytest.raises(gpurent.InvalidArgError):
        market.apply(r)  # computed on the state before
    market.end_lease("a")
    assert market.stats().gpus_free == 48 - 16
    with pytest.raises(gpurent.NotFoundError) as e:
        market.end_lease("a")
    assert "no lease" in e.value.detail
    market.remove_request("nope")
    with pytest.raises(gpurent.UnknownRequestError):
        market.remove_request("nope")
    r.clear()
    assert len(r) == 0 and r.assignments == []


def test_receipt_bad_input():
    r = gpurent.Receipt.from_fields(total_value=5, request_count=2, assignments=[
        gpurent.Assignment("b", 2, [gpurent.Placement(KEYS[0], "n0", 1, 0, 0, 1)]),
        gpurent.Assignment("a", 3, [gpurent.Placement(KEYS[0], "n0", 1, 0, 0, 1)])])
    with pytest.raises(gpurent.InvalidFieldError) as e:
        r.validate()
    assert "request_id" in e.value.detail
    with pytest.raises(gpurent.InvalidFieldError) as e:
        gpurent.Receipt.from_fields(total_value=1, request_count=1, assignments=[gpurent.Assignment("a", 2, [
            gpurent.Placement(KEYS[0], "n0", 1, 0, 0, 1)])]).encode()
    assert "total_value" in e.value.detail
    with pytest.raises(gpurent.InvalidFieldError):
        gpurent.Receipt.from_fields(request_count=1, assignments=[gpurent.Assignment("a", 0, [])]).digest()
    with pytest.raises(gpurent.TruncatedError):
        gpurent.Receipt.decode(gpurent.Receipt.from_fields().encode()[:-1])
    with pytest.raises(gpurent.WrongRecordError):
        gpurent.Receipt.decode(H100.encode())


def test_market_bad_input(market):
    with pytest.raises(gpurent.ExistsError):
        market.put_offer(offer(0))  # same seq
    market.put_offer(offer(0, nodes=1, seq=2))
    assert market.stats().nodes == 5
    with pytest.raises(gpurent.InvalidFieldError):
        market.put_offer(offer(3, region=""))
    with pytest.raises(gpurent.UnknownOfferError):
        market.remove_offer(KEYS[3])
    market.remove_offer(KEYS[2])
    assert market.stats().providers == 2
    with pytest.raises(gpurent.InvalidArgError):
        market.set_trust(KEYS[0], 8, 0)
    with pytest.raises(gpurent.InvalidArgError):
        market.set_trust(KEYS[0], 1, 1_000_001)
    with pytest.raises(gpurent.NotFoundError):
        market.set_verified(KEYS[0], "no-such-node", True)
    market.set_verified(KEYS[0], "n0")
    assert [c.node_id for c in market.best(req("v", verified_only=1), k=5)] == ["n0"]
    market.add_request(req("dup"))
    with pytest.raises(gpurent.ExistsError):
        market.add_request(req("dup"))
    with pytest.raises(gpurent.InvalidFieldError):
        market.add_request(req(""))
    with pytest.raises(ValueError):
        market.set_seed(b"short")
    with pytest.raises(gpurent.InvalidArgError):
        market.set_options(gpurent.MatchOptions(w_fit=5000))
    with pytest.raises(gpurent.InvalidArgError):
        gpurent.Market(gpurent.MatchOptions(threads=100000))
    with gpurent.Cancel() as c:
        c.request()
        with pytest.raises(gpurent.CancelledError):
            market.match(T0, cancel=c)


def test_explain_a_miss_and_a_hit(market):
    ex = market.explain(req("cheap", max_price_micro_per_gpu_hour=1_000_000))
    assert ex.request_id == "cheap" and not ex.matched and ex.nodes_total == 6 and ex.nodes_feasible == 0
    assert ex.eliminated[gpurent.Constraint.PRICE] == 6 and len(ex.eliminated) == gpurent.Constraint.GANG + 1
    assert ex.misses and all(m.failed == [gpurent.Constraint.PRICE] for m in ex.misses)
    relax = ex.relaxations[0]
    assert relax.constraint == gpurent.Constraint.PRICE and relax.from_value == 1_000_000
    assert relax.to_value >= 2_000_000 and relax.nodes_added >= 1
    assert "cheap" in ex.text and "price" in ex.text
    hit = market.explain(req("ok"))
    assert hit.matched == 1 and len(hit.candidates) == 2 and hit.candidates[0].breakdown.total > 0
    assert gpurent.constraint_name(gpurent.Constraint.VRAM) == "vram" and gpurent.constraint_name(99) == "unknown"
    with pytest.raises(gpurent.InvalidFieldError):
        market.explain(req("bad", gpus=0))


def test_closed_market_and_raw_capi():
    m = gpurent.Market()
    m.close()
    with pytest.raises(ValueError):
        m.stats()
    c = gpurent.capi.match_receipt()
    gpurent.capi.match_receipt_init(c)
    assert gpurent.capi.match_receipt_assignment(c, 0) is None
    assert gpurent.capi.match_receipt_placement(c, 0) is None
    gpurent.capi.match_receipt_clear(c)


def test_python_thread_progresses_during_a_batch_match():
    """market.match releases the GIL: a spinning Python thread keeps counting
    while this thread is inside a batch (same method as test_gpurent_threads)."""
    with gpurent.Market() as m:
        for p in range(200):
            key = p.to_bytes(2, "big") * 16
            m.put_offer(gpurent.Offer(provider_key=key, seq=1, region=f"r{p % 5}", nodes=[
                gpurent.Node(node_id=f"n{i}", gpu=H100, gpu_count=8, gpu_free=8, cpu_millicores=64000,
                             ram_mib=512000, disk_gib=1000, price_micro_per_gpu_hour=1_000_000 + 997 * ((p * 31 + i) % 101))
                for i in range(10)]))
        n = 0
        took = 0.0
        while took < 0.2 and n < 20000:
            for i in range(n, n + 500):
                m.add_request(req(f"r{i}", gpus=1 + i % 8))
            n += 500
            t0 = time.perf_counter()
            m.match(T0)
            took = time.perf_counter() - t0
        with spinner() as s:
            free_rate = s.free_steps(took)
            r, during, _ = s.during(lambda: m.match(T0))
        assert len(r) > 0 and free_rate > 0
        assert during > free_rate * 0.08, f"spinner made {during} steps in the match, {free_rate} when free"


def test_policy_digest_from_the_documented_map():
    """docs/match.md's policy map, built with msgpack and hashed with hashlib's
    BLAKE2b, gives the digest the library puts in receipts (algorithm 6, with
    the model and framework table digests under keys 14 and 15)."""
    import hashlib
    msgpack = pytest.importorskip("msgpack")
    o = gpurent.MatchOptions(w_price=300, w_perf_price=200, w_tier=150, w_score=100, w_stake=50, w_locality=40,
                             w_fit=160, price_ref_micro=2_500_000, perf_price_cap=20_000, stake_cap_micro=10**12,
                             aging_per_hour=300_000, strand_min_gpus=3, threads=4)
    fields = [gpurent.capi.MATCH_OPTIONS_VERSION, o.w_price, o.w_perf_price, o.w_tier, o.w_score, o.w_stake,
              o.w_locality, o.w_fit, o.price_ref_micro, o.perf_price_cap, o.stake_cap_micro, o.aging_per_hour,
              o.strand_min_gpus, 6, gpurent.model_table_digest(), gpurent.framework_table_digest()]
    doc = msgpack.packb({i: v for i, v in enumerate(fields)}, use_bin_type=True)
    assert o.digest() == hashlib.blake2b(doc, digest_size=32).digest()
    o.threads = 1  # not part of the policy
    assert o.digest() == hashlib.blake2b(doc, digest_size=32).digest()
