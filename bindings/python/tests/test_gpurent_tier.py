"""Tier bindings: audit reports and certificates as bytes, the engine as a
handle, eras, slashes, explanations, certificates, and bad input."""
import pytest

import gpurent

DAY = 86400
P = bytes([0x42]) * 32
AUD = [bytes([0xA0 + i]) * 32 for i in range(3)]


def report(auditor, era, provider=P, security=1, j=0):
    base = era * DAY
    r = gpurent.AuditReport(provider_key=provider, auditor_key=auditor, time_s=base + 86000 + j,
                            gpu_report=gpurent.CheckResult.PASSED, integrity=gpurent.CheckResult.PASSED,
                            security=security, stake_observed=1, stake_micro=500_000_000)
    r.challenges = [gpurent.Challenge(base + h * 3600 + j, gpurent.ChallengeKind.GPU, 1) for h in range(24)]
    r.challenges.append(gpurent.Challenge(base + 1800 + j, gpurent.ChallengeKind.CPU, 1))
    r.jobs = [gpurent.Job(f"job-{era}", base + 70000, gpurent.JobOutcome.COMPLETED)] if j == 0 else []
    return r


@pytest.fixture
def engine():
    with gpurent.TierEngine(gpurent.TierOptions(first_era=20000)) as e:
        for era in range(20000, 20004):
            for j, a in enumerate(AUD):
                e.record_report(report(a, era, j=j))
            e.evaluate(era)
        yield e


def test_audit_report_round_trip_sorts_sets():
    r = report(AUD[0], 20000)
    r.challenges.reverse()
    data = r.encode()
    back = gpurent.AuditReport.decode(data)
    assert back.challenges == sorted(r.challenges, key=lambda c: (c.time_s, c.kind))
    assert back.jobs == r.jobs and back.provider_key == P and back.stake_micro == 500_000_000
    assert back.encode() == data
    assert gpurent.record_type(data) == gpurent.RecordType.AUDIT_REPORT
    back.validate()


def test_audit_report_bad_input():
    r = report(AUD[0], 20000)
    r.auditor_key = P  # an auditor cannot audit itself
    with pytest.raises(gpurent.InvalidFieldError) as e:
        r.validate()
    assert "auditor_key" in e.value.detail
    r = report(AUD[0], 20000)
    r.challenges.append(r.challenges[0])  # repeats are invalid
    with pytest.raises(gpurent.InvalidFieldError):
        r.encode()
    with pytest.raises(gpurent.TruncatedError):
        gpurent.AuditReport.decode(report(AUD[0], 20000).encode()[:-1])
    r = report(AUD[0], 20000)
    r.jobs = [gpurent.Job("x" * 80, 1, 1)]  # does not fit job_id[64]
    with pytest.raises(gpurent.InvalidArgError):
        r.encode()


def test_options_defaults_and_validation():
    o = gpurent.TierOptions()
    assert o.tier_count == 7 and len(o.tiers) == 7 and o.tiers[0].uptime_min_ppm == 990_000
    assert o.quorum_auditors == 3 and o.era_s == 86400
    o.validate()
    with pytest.raises(gpurent.InvalidArgError) as e:
        gpurent.TierOptions(gpu_weight_ppm=1).validate()
    assert "weight" in e.value.detail
    with pytest.raises(gpurent.InvalidArgError):
        gpurent.TierEngine(gpurent.TierOptions(window_eras=0))
    with pytest.raises(TypeError):
        gpurent.TierOptions(no_such_field=1)


def test_engine_eras_keys_and_digest(engine):
    assert engine.era_of(20004 * DAY + 5) == 20004
    assert engine.next_era() == 20004
    assert engine.provider_count() == 1 and engine.providers() == [P] and engine.provider_key(0) == P
    d = engine.params_digest()
    assert len(d) == 32 and d == gpurent.TierEngine(gpurent.TierOptions(first_era=20000)).params_digest()
    with pytest.raises(gpurent.NotFoundError):
        engine.provider_key(1)


def test_explain_and_certificate(engine):
    x = engine.explain(P)
    assert x.provider_key == P and x.era == 20003 and x.incubating == 1 and x.auditors == 3
    assert len(x.components) == gpurent.capi.TIER_COMPONENTS
    assert sum(c.contribution_ppm for c in x.components) == x.score_ppm
    assert "era 20003" in x.text and gpurent.rule_name(x.rule) in x.text
    assert gpurent.rule_name(gpurent.Rule.PROMOTED) == "promoted" and gpurent.rule_name(999) == "unknown"
    cert = engine.certificate(P)
    assert cert.era == 20003 and cert.auditors == sorted(AUD) and cert.params_digest == engine.params_digest()
    data = cert.encode()
    assert gpurent.TierCert.decode(data) == cert
    cert.validate()
    with pytest.raises(gpurent.UnknownProviderError):
        engine.explain(bytes(32))
    with pytest.raises(ValueError):
        engine.explain(b"short")


def test_certificate_bad_input(engine):
    cert = engine.certificate(P)
    cert.auditors = list(reversed(cert.auditors))  # must be ascending
    with pytest.raises(gpurent.InvalidFieldError) as e:
        cert.encode()
    assert "auditors" in e.value.detail
    cert.auditors = [bytes([i]) * 32 for i in range(17)]
    with pytest.raises(gpurent.InvalidFieldError):
        cert.validate()
    with pytest.raises(gpurent.WrongRecordError):
        gpurent.TierCert.decode(report(AUD[0], 20000).encode())


def test_quorum_not_met_and_not_found():
    with gpurent.TierEngine(gpurent.TierOptions(first_era=5)) as e:
        e.record_report(report(AUD[0], 5))
        with pytest.raises(gpurent.NotFoundError):
            e.certificate(P)
        e.evaluate()
        with pytest.raises(gpurent.QuorumNotMetError) as x:
            e.certificate(P)
        assert "3 needed" in x.value.detail


def test_events_slashes_and_rejected_evidence():
    o = gpurent.TierOptions(first_era=10)
    o.tiers[-1].slash_below_ppm = 500_000
    k = bytes([5]) * 32
    with gpurent.TierEngine(o) as e:
        e.record([gpurent.TierEvent(k, 10 * DAY + i, gpurent.EventKind.GPU_CHALLENGE, int(i < 2)) for i in range(10)]
                 + [gpurent.TierEvent(k, 10 * DAY + 99, gpurent.EventKind.STAKE, 7)])
        s = e.evaluate(10)
        assert s.era == 10 and s.evaluated == 1 and s.slashes == 1 and s.tier_counts[6] == 1
        slashes = e.slashes()
        assert slashes == [e.slash(0)]
        assert slashes[0].provider_key == k and slashes[0].uptime_ppm == 200_000
        assert slashes[0].reasons == gpurent.capi.TIER_SLASH_UPTIME
        with pytest.raises(gpurent.NotFoundError):
            e.slash(1)
        # era 10 is closed now: all or nothing, nothing recorded
        with pytest.raises(gpurent.EvidenceRejectedError) as x:
            e.record([gpurent.TierEvent(k, 11 * DAY, 1, 1), gpurent.TierEvent(k, 10 * DAY, 1, 1)])
        assert "events[1]" in x.value.detail and "closed" in x.value.detail
        with pytest.raises(gpurent.InvalidArgError):
            e.record([gpurent.TierEvent(k, 11 * DAY, 99, 1)])
        with pytest.raises(gpurent.InvalidArgError):
            e.evaluate(12)  # must be next_era()
        e.record([])  # nothing to record is fine
        with gpurent.Cancel() as c:
            c.request()
            with pytest.raises(gpurent.CancelledError):
                e.evaluate(cancel=c)
        assert e.next_era() == 11


def test_record_report_bytes_and_closed_handle():
    e = gpurent.TierEngine(gpurent.TierOptions(first_era=7))
    e.record_report(report(AUD[1], 7).encode())
    with pytest.raises(gpurent.MalformedError):
        e.record_report(b"\xc1")
    assert e.provider_count() == 1
    e.close()
    e.close()
    with pytest.raises(ValueError):
        e.next_era()


def test_raw_capi_report_accessors():
    c = gpurent.capi.audit_report()
    gpurent.capi.audit_report_init(c)
    gpurent.capi.audit_report_add_challenge(c, 5, 1, 1)
    gpurent.capi.audit_report_add_job(c, "j", 4, 1)
    assert gpurent.capi.audit_report_challenge(c, 0).time_s == 5
    assert gpurent.capi.audit_report_job(c, 0).job_id == "j"
    assert gpurent.capi.audit_report_challenge(c, 1) is None
    gpurent.capi.audit_report_clear(c)
    assert c.challenge_count == 0
