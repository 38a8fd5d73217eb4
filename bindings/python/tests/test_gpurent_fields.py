"""Bad field values raise gpurent errors naming the field, and help() on a
record explains every field with its unit.

On 0.2.0 ``Request(gpu_count=-1).encode()`` raised SWIG's bare
``OverflowError: in method 'request_gpu_count_set', argument 2 of type
'uint32_t'`` and the record docstrings did not mention their fields."""
import dataclasses
import pydoc

import pytest

import gpurent

KEY = bytes([7]) * 32


def _check_range(exc_info, path):
    e = exc_info.value
    assert isinstance(e, gpurent.InvalidFieldError) and isinstance(e, gpurent.WireError)
    assert isinstance(e, ValueError) and isinstance(e, gpurent.Error)
    assert not isinstance(e, OverflowError)
    assert e.status == gpurent.capi.E_INVALID_FIELD and e.name == "GPURENT_E_INVALID_FIELD"
    assert e.detail.startswith(path + ":"), e.detail
    assert "in method" not in str(e)


def test_request_negative_gpu_count():
    r = gpurent.Request(request_id="r", gpu_count=-1)
    for call in (r.encode, r.validate):
        with pytest.raises(gpurent.FieldRangeError) as e:
            call()
        _check_range(e, "request.gpu_count")
        assert "-1 is out of range for uint32_t (0..4294967295)" in e.value.detail
    with gpurent.Market() as m:
        with pytest.raises(gpurent.FieldRangeError):
            m.add_request(r)


def test_wrong_types_are_type_errors_too():
    with pytest.raises(gpurent.FieldTypeError) as e:
        gpurent.Request(request_id="r", gpu_count="8").encode()
    assert isinstance(e.value, TypeError) and isinstance(e.value, gpurent.InvalidFieldError)
    assert e.value.detail.startswith("request.gpu_count: expected an int, got str")
    with pytest.raises(gpurent.FieldTypeError) as e:
        gpurent.Request(request_id="r", duration_s=1.5).validate()
    assert e.value.detail.startswith("request.duration_s:")
    with pytest.raises(gpurent.FieldTypeError) as e:
        gpurent.Request(request_id=7).encode()
    assert e.value.detail.startswith("request.request_id: expected str")
    with pytest.raises(gpurent.FieldTypeError) as e:
        gpurent.Request(request_id="r", models=["H100", 3]).encode()
    assert e.value.detail.startswith("request.models[1]:")
    with pytest.raises(gpurent.FieldTypeError) as e:
        gpurent.Offer(provider_key=KEY, region="eu", nodes=["n1"]).encode()
    assert e.value.detail.startswith("offer.nodes[0]: expected a Node")


def _sign_with_time(t):
    with gpurent.Key.from_seed(KEY) as k:
        return k.sign(gpurent.Revocation(key=KEY, revoked_at=1).encode(), t, t + 10)


# (what to run, the field path its detail starts with)
BAD = [
    (lambda: gpurent.GPU(model="H100", memory_mib=2**64).encode(), "gpu.memory_mib"),
    (lambda: gpurent.Offer(provider_key=KEY, seq=-1, region="eu").encode(), "offer.seq"),
    (lambda: gpurent.Offer(provider_key=KEY, region="eu", nodes=[
        gpurent.Node(node_id="a"), gpurent.Node(node_id="b", gpu_count=-8)]).encode(), "offer.nodes[1].gpu_count"),
    (lambda: gpurent.Offer(provider_key=KEY, region="eu", nodes=[
        gpurent.Node(node_id="a", gpu=gpurent.GPU(cc_major=-9))]).validate(), "offer.nodes[0].gpu.cc_major"),
    (lambda: gpurent.Offer(provider_key=b"short", region="eu").encode(), "offer.provider_key"),
    (lambda: gpurent.Request(request_id="r", submitted_at=-1).encode(), "request.submitted_at"),
    (lambda: gpurent.Revocation(key=KEY, revoked_at=-1).encode(), "revocation.revoked_at"),
    (lambda: _sign_with_time(-5), "envelope.issued_at"),
    (lambda: gpurent.AuditReport(provider_key=KEY, auditor_key=bytes(32), time_s=-1).encode(), "audit_report.time_s"),
    (lambda: gpurent.AuditReport(provider_key=KEY, auditor_key=bytes(32), time_s=5, challenges=[
        gpurent.Challenge(1, -2, 1)]).encode(), "audit_report.challenges[0]"),
    (lambda: gpurent.TierCert(provider_key=KEY, era=-3).encode(), "tier_cert.era"),
    (lambda: gpurent.MatchOptions(w_price=-1).validate(), "match_options.w_price"),
    (lambda: gpurent.GpuReport(probed_at=-1).encode(), "gpu_report.probed_at"),
]


@pytest.mark.parametrize("call,path", BAD, ids=[p for _, p in BAD])
def test_every_record_names_the_bad_field(call, path):
    with pytest.raises(gpurent.InvalidFieldError) as e:
        call()
    _check_range(e, path)


def test_tier_events_name_the_bad_event():
    with gpurent.TierEngine() as eng:
        with pytest.raises(gpurent.InvalidFieldError) as e:
            eng.record([gpurent.TierEvent(KEY, 5, gpurent.EventKind.GPU_CHALLENGE, 1),
                        gpurent.TierEvent(KEY, -5, gpurent.EventKind.GPU_CHALLENGE, 1)])
        assert e.value.detail.startswith("events.[1]:") or e.value.detail.startswith("events[1]:")


DOCUMENTED = [gpurent.GPU, gpurent.Node, gpurent.Offer, gpurent.Request, gpurent.Envelope, gpurent.Revocation,
              gpurent.Challenge, gpurent.Job, gpurent.AuditReport, gpurent.TierCert, gpurent.TierEvent,
              gpurent.GpuReport]


@pytest.mark.parametrize("cls", DOCUMENTED, ids=[c.__name__ for c in DOCUMENTED])
def test_help_explains_every_field(cls):
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    assert "Fields (" in text
    lines = {ln.strip(" |").split(":", 1)[0]: ln.strip(" |") for ln in text.splitlines()}
    for f in dataclasses.fields(cls):
        line = lines.get(f.name)
        assert line, f"help({cls.__name__}) does not explain {f.name}"
        assert len(line) > len(f.name) + 12, line  # more than a name


def test_help_gives_units():
    text = pydoc.render_doc(gpurent.Request, renderer=pydoc.plaintext)
    for unit in ("MiB", "GiB", "seconds", "Unix seconds", "1e-6 currency units", "1/1000 core", "GFLOPS"):
        assert unit in text, unit
    node = pydoc.render_doc(gpurent.Node, renderer=pydoc.plaintext)
    assert "price_micro_per_gpu_hour: [key 9] int, 1e-6 currency units: price of one GPU for one hour" in node
