"""Tier bindings: audit reports and certificates as bytes, the engine as a
handle, eras, slashes, explanations, certificates, and bad input."""
import pytest

import gpurent
from gil_spinner import spinner

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


def unverified(**kw):
    """Options of an engine that takes evidence verified elsewhere (these
    tests feed reports directly; a default engine refuses them)."""
    return gpurent.TierOptions(unverified_evidence=1, **kw)


@pytest.fixture
def engine():
    with gpurent.TierEngine(unverified(first_era=20000)) as e:
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
    with gpurent.TierEngine(unverified(first_era=5)) as e:
        e.record_report(report(AUD[0], 5))
        with pytest.raises(gpurent.NotFoundError):
            e.certificate(P)
        e.evaluate()
        with pytest.raises(gpurent.QuorumNotMetError) as x:
            e.certificate(P)
        assert "3 needed" in x.value.detail


def test_events_slashes_and_rejected_evidence():
    o = unverified(first_era=10)
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


def test_default_engine_takes_signed_evidence_only():
    assert gpurent.TierOptions().unverified_evidence == 0
    k = bytes([5]) * 32
    with gpurent.TierEngine(gpurent.TierOptions(first_era=7)) as e:
        with pytest.raises(gpurent.EvidenceRejectedError) as x:
            e.record_report(report(AUD[1], 7))
        assert "record_signed" in x.value.detail
        with pytest.raises(gpurent.EvidenceRejectedError):
            e.record_report(report(AUD[1], 7).encode())
        with pytest.raises(gpurent.EvidenceRejectedError):
            e.record([gpurent.TierEvent(k, 7 * DAY, gpurent.EventKind.GPU_CHALLENGE, 1)])
        assert e.provider_count() == 0
    with pytest.raises(gpurent.InvalidArgError):
        gpurent.TierOptions(unverified_evidence=2).validate()


def test_record_report_bytes_and_closed_handle():
    e = gpurent.TierEngine(unverified(first_era=7))
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


# ---- evaluate releases the GIL ----

def record_era(e, keys, era):
    """One era of evidence for every provider: a GPU and a CPU challenge (one
    GPU challenge in 13 failed), a job for every 8th provider, and full
    audits by the three auditors for the first 100."""
    base = era * DAY
    gpu, cpu, job = gpurent.EventKind.GPU_CHALLENGE, gpurent.EventKind.CPU_CHALLENGE, gpurent.EventKind.JOB
    events = []
    for i, k in enumerate(keys):
        t = base + i % 80000
        events.append(gpurent.TierEvent(k, t, gpu, int((i + era) % 13 != 0)))
        events.append(gpurent.TierEvent(k, t + 1, cpu, 1))
        if i % 8 == 0:
            events.append(gpurent.TierEvent(k, t + 2, job, gpurent.JobOutcome.COMPLETED))
    e.record(events)
    for k in keys[:100]:
        for j, a in enumerate(AUD):
            e.record_report(report(a, era, provider=k, j=j))


def test_python_thread_progresses_during_evaluate():
    """TierEngine.evaluate releases the GIL: a spinning Python thread keeps
    running while this thread evaluates an era.

    Evaluation is quick (~0.2 us a provider: a few thousand providers take
    about a millisecond, one switch interval), too quick for
    test_gpurent_threads' step count, where the slices around a call weigh
    as much as the call. So the network is 60 000 providers with three eras
    of history (~10-20 ms an era), and the measure is the spinner's longest
    stall within the call (gil_spinner.Spinner.stall): nearly all of it with
    the GIL held (0.8-0.93 measured with evaluate's %thread removed), only
    scheduling hiccups with it released (0.02-0.4 on this shared machine).
    The median of five eras is judged."""
    n, first = 60000, 30000
    keys = [(i + 1).to_bytes(4, "big") * 8 for i in range(n)]
    stalls = []
    with gpurent.TierEngine(unverified(first_era=first)) as e:
        for era in range(first, first + 3):
            record_era(e, keys, era)
            e.evaluate(era)
        for era in range(first + 3, first + 8):
            record_era(e, keys, era)
            with spinner() as s:
                summary, stall, took = s.stall(e.evaluate)
            assert summary.era == era and summary.evaluated == n and sum(summary.tier_counts) == n
            stalls.append(stall / took)
    assert sorted(stalls)[2] < 0.5, f"the spinner stalled for {stalls} of each evaluation"


# ---- signed evidence and signed certificates ----

SEEDS = [bytes([0x30 + i]) * 32 for i in range(4)]
T_REPORT = 20000 * DAY + 86000  # when the era-20000 reports were made


def auditors_and_trust():
    keys = [gpurent.Key.from_seed(s) for s in SEEDS]
    trust = gpurent.TrustStore()
    for k in keys[:3]:
        trust.add(k.public_key, gpurent.Role.AUDITOR)
    trust.add(keys[3].public_key, gpurent.Role.PROVIDER)  # signs, but is no auditor
    return keys, trust


def signed_report(key, era, j):
    return key.sign(report(key.public_key, era, j=j).encode(), T_REPORT + (era - 20000) * DAY,
                    T_REPORT + (era - 20000) * DAY + DAY)


def test_record_signed_and_refusals():
    keys, trust = auditors_and_trust()
    with trust, gpurent.TierEngine(gpurent.TierOptions(first_era=20000)) as e:
        env = signed_report(keys[0], 20000, 0)
        e.record_signed(trust, env, T_REPORT + 10, 60)
        assert e.provider_count() == 1
        with pytest.raises(gpurent.ReplayedError):
            e.record_signed(trust, env, T_REPORT + 10, 60)
        with pytest.raises(gpurent.RoleNotAllowedError):  # a provider's key signing a report
            e.record_signed(trust, signed_report(keys[3], 20000, 3), T_REPORT + 10, 60)
        # An auditor speaking for another: signed by auditor 1, naming auditor 2.
        other = keys[1].sign(report(keys[2].public_key, 20000).encode(), T_REPORT, T_REPORT + DAY)
        with pytest.raises(gpurent.EvidenceRejectedError) as x:
            e.record_signed(trust, other, T_REPORT + 10, 60)
        assert "issuer" in x.value.detail
        bad = bytearray(signed_report(keys[1], 20000, 1))
        bad[-1] ^= 1  # the last byte of the signature
        with pytest.raises(gpurent.BadSignatureError):
            e.record_signed(trust, bytes(bad), T_REPORT + 10, 60)
        with pytest.raises(gpurent.NotYetValidError):
            e.record_signed(trust, signed_report(keys[1], 20000, 1), T_REPORT - 3600, 60)
        with pytest.raises(gpurent.TruncatedError):
            e.record_signed(trust, env[:-5], T_REPORT + 10, 60)
        # Nothing refused was recorded: only auditor 0's report counts.
        e.evaluate(20000)
        assert e.explain(P).auditors == 1


def test_record_signed_many_matches_one_by_one():
    keys, trust = auditors_and_trust()
    with trust:
        envs = [signed_report(k, 20000, j) for j, k in enumerate(keys[:3])]
        batch = envs + [envs[1], signed_report(keys[3], 20000, 3), b"\x01"]
        with gpurent.TierEngine(gpurent.TierOptions(first_era=20000)) as e:
            st = e.record_signed_many(trust, batch, T_REPORT + 10, 60, threads=2)
        c = gpurent.capi
        assert st == [0, 0, 0, c.E_REPLAYED, c.E_ROLE_NOT_ALLOWED, c.E_INVALID_FIELD]  # b"\x01": not a map
        assert gpurent.class_for_status(st[4]) is gpurent.RoleNotAllowedError
        trust.clear_replay()
        with gpurent.TierEngine(gpurent.TierOptions(first_era=20000)) as e:
            one = []
            for b in batch:
                try:
                    e.record_signed(trust, b, T_REPORT + 10, 60)
                    one.append(0)
                except gpurent.Error as x:
                    one.append(x.status)
        assert one == st
        trust.clear_replay()
        c = gpurent.Cancel()
        c.request()
        with gpurent.TierEngine(gpurent.TierOptions(first_era=20000)) as e, pytest.raises(gpurent.CancelledError):
            e.record_signed_many(trust, envs, T_REPORT + 10, 60, cancel=c)


def test_signed_certificate_quorum():
    keys, trust = auditors_and_trust()
    engines = [gpurent.TierEngine(unverified(first_era=20000)) for _ in range(3)]
    try:
        for e in engines:  # three auditors, each with its own engine and the same evidence
            for era in range(20000, 20004):
                for j, k in enumerate(keys[:3]):
                    e.record_report(report(k.public_key, era, j=j))
                e.evaluate(era)
        now = 20004 * DAY
        env = engines[0].sign_certificate(keys[0], P, now, now + 7 * DAY)
        with pytest.raises(gpurent.QuorumNotMetError):
            gpurent.verify_tier_certificate(trust, env, now, 60, quorum=2)
        env2 = engines[1].cosign_certificate(keys[1], trust, env, now, 60)
        env3 = engines[2].cosign_certificate(keys[2], trust, env2, now, 60)
        cert = gpurent.verify_tier_certificate(trust, env3, now, 60, quorum=3)
        assert cert == engines[2].certificate(P) and cert.era == 20003
        # No replay check: a certificate verifies as often as anyone asks.
        assert gpurent.verify_tier_certificate(trust, env3, now + 10, 60, quorum=3) == cert
        with pytest.raises(gpurent.ExistsError):
            engines[1].cosign_certificate(keys[1], trust, env2, now, 60)
        with pytest.raises(gpurent.ExpiredError):
            gpurent.verify_tier_certificate(trust, env3, now + 8 * DAY, 60, quorum=1)
        # An engine that saw other evidence refuses to co-sign.
        with gpurent.TierEngine(unverified(first_era=20000)) as odd:
            for era in range(20000, 20004):
                for j, k in enumerate(keys[:3]):
                    failed = j == 2 and era == 20001  # one lone failed security audit: kept in the evidence
                    odd.record_report(report(k.public_key, era, j=j, security=gpurent.CheckResult.FAILED if failed
                                             else gpurent.CheckResult.PASSED))
                odd.evaluate(era)
            with pytest.raises(gpurent.CertMismatchError):
                odd.cosign_certificate(keys[2], trust, env, now, 60)
        # A provider's key is not an auditor: its signature does not count.
        env_p = engines[1].cosign_certificate(keys[3], trust, env, now, 60)
        with pytest.raises(gpurent.QuorumNotMetError):
            gpurent.verify_tier_certificate(trust, env_p, now, 60, quorum=2)
        with pytest.raises(gpurent.WrongRecordError):
            gpurent.verify_tier_certificate(trust, signed_report(keys[0], 20000, 0), T_REPORT, 60)
    finally:
        for e in engines:
            e.close()
        for k in keys:
            k.close()
        trust.close()


def test_lone_failure_is_kept_and_changes_no_tier():
    """A fourth auditor alone reports a failed security audit: the tier does
    not move (k = 3 distinct auditors must report it), and the report shows
    in explain_disputes; two more within the window confirm it."""
    liar = bytes([0xEE]) * 32
    with gpurent.TierEngine(unverified(first_era=20000)) as e:
        for era in range(20000, 20004):
            for j, a in enumerate(AUD):
                e.record_report(report(a, era, j=j))
            if era == 20003:
                e.record_report(report(liar, era, security=gpurent.CheckResult.FAILED, j=3))
            e.evaluate(era)
        x = e.explain(P)
        d = e.explain_disputes(P)
        assert x.tier == 6 and x.rule != gpurent.Rule.INCUBATION_RESET
        assert d == gpurent.TierDisputes(era=20003, quorum=3, sources=4, uptime_low_ppm=1_000_000,
                                         uptime_high_ppm=1_000_000, lone_security=1)
        for j, a in enumerate(AUD):
            e.record_report(report(a, 20004, j=j, security=gpurent.CheckResult.FAILED if j < 2 else 1))
        e.evaluate(20004)
        assert e.explain(P).rule == gpurent.Rule.INCUBATION_RESET
        assert e.explain_disputes(P).lone_security == 0
        assert e.auditor_contradicted(liar) == 1  # three auditors passed the check it failed
        assert e.auditor_contradicted(AUD[0]) == 0
        with pytest.raises(gpurent.NotFoundError):
            e.auditor_contradicted(bytes([0xEF]) * 32)
        with pytest.raises(gpurent.UnknownProviderError):
            e.explain_disputes(liar)
