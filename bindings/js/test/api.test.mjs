// The binding's own surface: keys, tier certificates with a quorum, a
// market's best and explain, errors and freed handles.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as gr from '../gpurent.mjs';

before(async () => { await gr.init(); });
const seed = (n) => new Uint8Array(32).fill(n);
const NOW = 1760000000;

test('a generated key signs; one changed byte is GPURENT_E_BAD_SIGNATURE', () => {
  const k = gr.Key.generate(), trust = new gr.TrustStore();
  try {
    trust.add(k.publicKey, gr.Role.provider);
    assert.equal(trust.roles(k.publicKey), gr.Role.provider);
    const payload = gr.encode({ type: 'gpu', model: 'H100', ccMajor: 9 });
    const env = k.sign({ statement: 'gpu', issuedAt: NOW, expiresAt: NOW + 60, nonce: seed(3).subarray(0, 16) }, payload);
    const v = gr.verifyEnvelope(trust, env, { now: NOW, checkReplay: false });
    assert.deepEqual(v.payload, payload);
    assert.deepEqual(v.signers, [k.publicKey]);
    assert.equal(gr.decodeEnvelope(env).statement, gr.RecordType.gpu);
    const bad = env.slice(); bad[env.length - 70] ^= 1; // inside the payload
    assert.throws(() => gr.verifyEnvelope(trust, bad, { now: NOW, checkReplay: false }),
      (e) => e instanceof gr.VerifyError || e instanceof gr.WireError);
    const sig = env.slice(); sig[env.length - 1] ^= 1; // inside the signature
    assert.throws(() => gr.verifyEnvelope(trust, sig, { now: NOW, checkReplay: false }),
      (e) => e instanceof gr.VerifyError && e.code === 'GPURENT_E_BAD_SIGNATURE' && e.status === -200);
    assert.throws(() => gr.verifyEnvelope(trust, env, { now: NOW + 3600, checkReplay: false }), { code: 'GPURENT_E_EXPIRED' });
  } finally { k.free(); trust.free(); }
  assert.throws(() => k.publicKey, /after free/);
});

test('tier certificate: two auditors meet a quorum of 2, one does not', () => {
  const prov = gr.Key.fromSeed(seed(1)), a1 = gr.Key.fromSeed(seed(2)), a2 = gr.Key.fromSeed(seed(3));
  const trust = new gr.TrustStore();
  trust.add(a1.publicKey, gr.Role.auditor); trust.add(a2.publicKey, gr.Role.auditor);
  const auditors = [a1.publicKey, a2.publicKey].sort((x, y) => (gr.toHex(x) < gr.toHex(y) ? -1 : 1));
  const cert = { type: 'tier_cert', providerKey: prov.publicKey, era: 7, tier: 2, incubating: 0, scorePpm: 800000,
    meanPpm: 850000, confidencePpm: 941176, uptimePpm: 999000, erasInTier: 3, pointsPpm: 1000000,
    evidenceDigest: seed(9), paramsDigest: seed(10), auditors };
  const bytes = gr.encode(cert);
  const one = a1.sign({ statement: 'tier_cert', issuedAt: NOW, expiresAt: NOW + 86400, nonce: seed(4).subarray(0, 16), subject: prov.publicKey }, bytes);
  const two = a2.cosign(one);
  const got = gr.verifyTierCertificate(trust, two, { now: NOW, quorum: 2 });
  assert.equal(got.tier, 2); assert.equal(got.scorePpm, 800000); assert.deepEqual(got.auditors, auditors);
  assert.deepEqual(gr.encode(got), bytes);
  assert.throws(() => gr.verifyTierCertificate(trust, one, { now: NOW, quorum: 2 }), { code: 'GPURENT_E_QUORUM_NOT_MET' });
  [prov, a1, a2, trust].forEach((h) => h.free());
});

test('market: best, and explain with a price relaxation when nothing fits', () => {
  const m = new gr.Market({ preset: 'cheapest', seed: seed(5) });
  const node = (id, price) => ({ nodeId: id, gpu: { model: 'RTX 4090', ccMajor: 8, ccMinor: 9, memoryMib: 24564, fp32Gflops: 82600, interface: 1 },
    gpuCount: 2, gpuFree: 2, cpuMillicores: 8000, ramMib: 65536, diskGib: 500, priceMicroPerGpuHour: price });
  m.putOffer({ type: 'offer', providerKey: seed(1), seq: 1, region: 'eu', nodes: [node('a', 440000), node('b', 460000)] });
  const best = m.best({ requestId: 'r', gpuCount: 2, durationS: 3600, maxPriceMicroPerGpuHour: 500000 }, 5);
  assert.deepEqual(best.map((c) => c.nodeId), ['a', 'b']);
  assert.equal(best[0].priceMicroPerGpuHour, 440000);
  const miss = { requestId: 'cheap', gpuCount: 2, durationS: 3600, maxPriceMicroPerGpuHour: 300000 };
  assert.deepEqual(m.best(miss, 5), []);
  const ex = m.explain(miss);
  assert.equal(ex.matched, 0); assert.equal(ex.nodesTotal, 2);
  const price = ex.relax.find((r) => r.constraintName === 'price');
  assert.ok(price && price.to === 440000 && price.nodesAdded >= 1, JSON.stringify(ex.relax));
  assert.match(ex.text, /cheap/);
  assert.throws(() => m.addRequest({ requestId: '', gpuCount: 1 }), gr.GpurentError);
  // strings: too long for the C array, or cut short by a NUL, are refused, never truncated
  assert.throws(() => m.best({ requestId: 'x'.repeat(64), gpuCount: 1, durationS: 60 }), { code: 'GPURENT_E_LIMIT' });
  assert.throws(() => m.best({ requestId: 'a\0b', gpuCount: 1, durationS: 60 }), { code: 'GPURENT_E_INVALID_ARG' });
  assert.equal(gr.decode(gr.encode({ type: 'gpu', model: 'Grafikkarte \u00fc\u4e2d', ccMajor: 8 })).model, 'Grafikkarte \u00fc\u4e2d');
  assert.throws(() => m.removeOffer(seed(7)), (e) => e instanceof gr.MatchError && e.code === 'GPURENT_E_UNKNOWN_OFFER');
  m.free();
});

test('64-bit values: numbers when exact, bigint above 2^53, either accepted', () => {
  const bytes = gr.encode({ type: 'gpu', model: 'X', ccMajor: 9, fp32Gflops: 2n ** 40n, memoryMib: 2 ** 32 });
  const g = gr.decode(bytes);
  assert.equal(g.fp32Gflops, 2 ** 40); // records' 64-bit fields stay below 2^53 by their limits
  assert.equal(g.memoryMib, 2 ** 32);
  assert.deepEqual(gr.encode(g), bytes);
  // a ranking's tie hash uses all 64 bits
  const m = new gr.Market({ seed: seed(5) });
  const hashes = [];
  for (let p = 1; p <= 8; p++) {
    m.putOffer({ type: 'offer', providerKey: seed(p), seq: 1, region: 'eu', nodes: [{ nodeId: 'n', gpu: { model: 'A', ccMajor: 8, memoryMib: 1024 },
      gpuCount: 1, gpuFree: 1, priceMicroPerGpuHour: 1000 }] });
  }
  for (const c of m.best({ requestId: 'r', gpuCount: 1, durationS: 60 }, 8)) hashes.push(c.breakdown.tieHash);
  m.free();
  assert.equal(hashes.length, 8);
  for (const h of hashes) assert.ok(typeof h === 'bigint' ? h > BigInt(Number.MAX_SAFE_INTEGER) : Number.isSafeInteger(h));
  assert.ok(hashes.some((h) => typeof h === 'bigint'), 'eight 64-bit hashes, all below 2^53?');
});

test('PreparedRequest: converted once, the same answers as an object or its bytes', () => {
  const m = new gr.Market({ preset: 'balanced', seed: seed(6) });
  const node = (id, model, price, free) => ({ nodeId: id, gpu: { model, ccMajor: 8, ccMinor: 9, memoryMib: 24564, fp32Gflops: 82600, interface: 1 },
    gpuCount: 4, gpuFree: free, cpuMillicores: 8000, ramMib: 65536, diskGib: 500, priceMicroPerGpuHour: price });
  for (let p = 1; p <= 6; p++)
    m.putOffer({ type: 'offer', providerKey: seed(p), seq: 1, region: p % 2 ? 'eu-west' : 'us-east',
      nodes: [node(`n${p}a`, 'RTX 4090', 400000 + 1000 * p, 4), node(`n${p}b`, 'L40S 48GB', 900000 - 1000 * p, 2)] });
  const req = { requestId: 'prep', gpuCount: 2, durationS: 3600, maxPriceMicroPerGpuHour: 950000, regions: ['eu-west'] };
  const prepared = new gr.PreparedRequest(req);
  const fromBytes = new gr.PreparedRequest(gr.encode({ type: 'request', ...req }));
  try {
    const want = m.best(req, 4);
    assert.equal(want.length, 4);
    assert.deepEqual(m.best(prepared, 4), want);
    assert.deepEqual(m.best(fromBytes, 4), want);
    assert.deepEqual(m.best(gr.encode({ type: 'request', ...req }), 4), want);
    // a snapshot: changing the object afterwards changes nothing
    req.regions = ['us-east'];
    assert.deepEqual(m.best(prepared, 4), want);
    assert.notDeepEqual(m.best(req, 4).map((c) => c.nodeId), want.map((c) => c.nodeId));
    assert.equal(prepared.requestId, 'prep');
    assert.deepEqual(prepared.encode(), fromBytes.encode());
    assert.deepEqual(gr.encode(prepared.toObject()), prepared.encode());
    assert.deepEqual(prepared.toObject().regions, ['eu-west']);
    // best()'s own candidate reader and the generic one (explain) agree field for field
    const ex = m.explain(prepared);
    assert.ok(ex.candidates.length >= 1);
    assert.deepEqual(ex.candidates, m.best(prepared, ex.candidates.length));
    m.addRequest(prepared);
    assert.equal(m.match(NOW).receipt.assignments[0].requestId, 'prep');
  } finally { prepared.free(); fromBytes.free(); m.free(); }
  assert.throws(() => m.best({ requestId: 'x', gpuCount: 1 }), /after free/);
  assert.throws(() => prepared.encode(), /after free/);
  prepared.free(); // twice is harmless
  // a bad request is refused when it is prepared, with the library's status
  assert.throws(() => new gr.PreparedRequest({ requestId: '', gpuCount: 1 }), (e) => e instanceof gr.GpurentError && e.code.startsWith('GPURENT_E_'));
  assert.throws(() => new gr.PreparedRequest({ requestId: 'x'.repeat(64) }), { code: 'GPURENT_E_LIMIT' });
  assert.throws(() => new gr.PreparedRequest(new Uint8Array([0x93, 1, 2])), gr.WireError);
});

test('calls whose buffers exceed the scratch block and calls that fail leave later calls intact', () => {
  // an offer of 400 nodes encodes to more than the 64 KiB scratch block: malloc'd, freed, same bytes back
  const nodes = Array.from({ length: 400 }, (_, i) => ({ nodeId: `node-${i}-${'x'.repeat(40)}`, gpu: { model: 'A100 SXM4 80GB', ccMajor: 8, memoryMib: 81920 },
    gpuCount: 8, gpuFree: 8, priceMicroPerGpuHour: 1000000 + i }));
  const offer = { type: 'offer', providerKey: seed(9), seq: 3, region: 'eu', nodes };
  const bytes = gr.encode(offer);
  assert.ok(bytes.length > 64 * 1024, `${bytes.length} bytes`);
  for (let i = 0; i < 3; i++) assert.deepEqual(gr.encode(gr.decode(bytes)), bytes);
  // thousands of failing calls (each throws out of its scope) and nested ones (sign reads publicKey inside its own scope)
  for (let i = 0; i < 5000; i++) assert.throws(() => gr.decode(bytes.subarray(0, 100)), gr.WireError);
  const k = gr.Key.fromSeed(seed(4));
  const env = k.sign({ statement: 'offer', issuedAt: NOW, expiresAt: NOW + 60 }, bytes);
  const trust = new gr.TrustStore();
  trust.add(k.publicKey, gr.Role.provider);
  assert.deepEqual(gr.verifyEnvelope(trust, env, { now: NOW, checkReplay: false }).payload, bytes);
  k.free(); trust.free();
});

test('GPU and audit reports: plain objects out, the same canonical bytes back, bad ones refused', () => {
  const pv = (value) => ({ state: 0, error: 0, value });
  const device = { ordinal: 0, name: { state: 0, error: 0, value: 'NVIDIA RTX 4090' }, uuid: { state: 0, error: 0, value: seed(7).subarray(0, 16) },
    pciDomain: pv(0), pciBus: pv(1), pciDevice: pv(0), ccMajor: pv(8), ccMinor: pv(9), smCount: pv(128), memoryBytes: pv(25757220864),
    clockKhz: pv(2520000), memClockKhz: pv(10501000), busWidthBits: pv(384), l2Bytes: pv(75497472), eccEnabled: { state: 1, error: 1, value: 0 },
    maxThreadsPerSm: pv(1536), fp32Gflops: pv(82575), fp16TensorGflops: pv(165150), bf16TensorGflops: pv(165150), memBwMbps: pv(1008096),
    h2dPeakMbps: pv(31507), d2d: { state: 3, error: 0, value: 0, ratioPpm: 0, verdict: 0 },
    h2d: { state: 3, error: 0, value: 0, ratioPpm: 0, verdict: 0 }, fma: { state: 0, error: 0, value: 80000, ratioPpm: 968816, verdict: 1 } };
  const report = { type: 'gpu_report', nonce: seed(1), probedAt: NOW, status: 0, driverVersion: pv(12040),
    driverPath: '/usr/lib/x86_64-linux-gnu/libcuda.so.1', driverDigest: seed(2), driverDeviceCount: 1, checks: 4, devices: [device] };
  const bytes = gr.encode(report);
  assert.equal(gr.recordType(bytes), 'gpu_report');
  const back = gr.decode(bytes);
  assert.deepEqual(gr.decodeGpuReport(bytes), back);
  assert.equal(back.statusName, 'GPURENT_OK');
  assert.equal(back.devices.length, 1);
  assert.deepEqual(back.devices[0].fma, device.fma);
  assert.equal(back.devices[0].name.value, 'NVIDIA RTX 4090');
  assert.equal(back.devices[0].memoryBytes.value, 25757220864);
  assert.deepEqual(gr.encode(back), bytes);
  // a device with state OK and a non-zero error, and 65 devices, are refused
  assert.throws(() => gr.encode({ ...report, devices: [{ ...device, smCount: { state: 0, error: 5, value: 1 } }] }), gr.GpurentError);
  assert.throws(() => gr.encode({ ...report, devices: Array(65).fill(device) }), { code: 'GPURENT_E_LIMIT' });
  assert.throws(() => gr.decodeGpuReport(gr.encode({ type: 'gpu', model: 'X', ccMajor: 8 })), gr.WireError);

  const audit = { type: 'audit_report', providerKey: seed(3), auditorKey: seed(4), timeS: NOW, gpuReport: 1, integrity: 1, security: 2,
    gpuReportDigest: seed(5), stakeObserved: 1, stakeMicro: 2 ** 40,
    challenges: [{ timeS: NOW - 10, kind: 1, passed: 1 }, { timeS: NOW - 20, kind: 2, passed: 0 }],
    jobs: [{ jobId: 'train-b', endS: NOW - 5, outcome: 1 }, { jobId: 'eval', endS: NOW - 1, outcome: 2 }] };
  const ab = gr.encode(audit);
  const a = gr.decodeAuditReport(ab);
  assert.deepEqual(gr.decode(ab), a);
  assert.equal(a.stakeMicro, 2 ** 40);
  // the encoder sorts the sets: challenges by time, jobs by id
  assert.deepEqual(a.challenges.map((c) => c.timeS), [NOW - 20, NOW - 10]);
  assert.deepEqual(a.jobs.map((j) => j.jobId), ['eval', 'train-b']);
  assert.deepEqual(gr.encode(a), ab);
  assert.throws(() => gr.encode({ ...audit, auditorKey: seed(3) }), gr.GpurentError); // auditing oneself
  assert.throws(() => gr.encode({ ...audit, challenges: [{ timeS: NOW + 1, kind: 1, passed: 1 }] }), gr.GpurentError); // after the report
  assert.throws(() => gr.decodeAuditReport(ab.subarray(0, ab.length - 2)), gr.WireError);
});

test('TierEngine: signed audit reports in; era summaries, explanations and certificates out as objects', () => {
  const G = 1767225600, E = 86400;
  const prov = gr.Key.fromSeed(seed(1)), auds = [2, 3, 4].map((n) => gr.Key.fromSeed(seed(n))), stranger = gr.Key.fromSeed(seed(8));
  const trust = new gr.TrustStore();
  for (const a of auds) trust.add(a.publicKey, gr.Role.auditor);
  const eng = new gr.TierEngine({ genesisS: G, eraS: E });
  let nonce = 0;
  const report = (a, era) => {
    const t0 = G + era * E;
    const rec = { type: 'audit_report', providerKey: prov.publicKey, auditorKey: a.publicKey, timeS: t0 + E - 600, gpuReport: 1,
      integrity: 1, security: 1, challenges: Array.from({ length: 20 }, (_, c) => ({ timeS: t0 + c * 4000, kind: c < 16 ? 1 : 2, passed: 1 })), jobs: [] };
    const n = new Uint8Array(16); n[15] = ++nonce;
    return a.sign({ statement: 'audit_report', issuedAt: rec.timeS, expiresAt: rec.timeS + 30 * E, nonce: n }, gr.encode(rec));
  };
  try {
    assert.equal(eng.tierCount, 7);
    assert.equal(eng.eraOf(G + E + 5), 1);
    const sums = [];
    for (let era = 0; era < 3; era++) {
      const envs = auds.map((a) => report(a, era));
      for (const env of envs) eng.recordSigned(trust, env, { now: G + (era + 1) * E - 300 });
      if (era === 0) {
        // the same statement twice, and one from a key the store does not trust
        assert.throws(() => eng.recordSigned(trust, envs[0], { now: G + E - 300 }), (e) => e instanceof gr.VerifyError && e.code === 'GPURENT_E_REPLAYED');
        assert.throws(() => eng.recordSigned(trust, report(stranger, 0), { now: G + E - 300 }), { code: 'GPURENT_E_UNKNOWN_ISSUER' });
        assert.equal(eng.explain(prov.publicKey).ruleName, 'not evaluated');
      }
      assert.equal(eng.nextEra, era);
      sums.push(eng.evaluate());
    }
    assert.deepEqual(sums.map((x) => [x.era, x.evaluated, x.promoted]), [[0, 1, 0], [1, 1, 0], [2, 1, 1]]);
    assert.deepEqual(sums[0].tierCounts, [0, 0, 0, 0, 0, 0, 1]); // incubation, tier 7
    assert.deepEqual(sums[2].tierCounts, [0, 0, 0, 0, 0, 1, 0]);
    assert.deepEqual(sums[2].slashEvents, []);
    // a report for an era already evaluated is refused by the engine, not the signature check
    assert.throws(() => eng.recordSigned(trust, report(auds[0], 0), { now: G + 3 * E - 300 }), (e) => e instanceof gr.GpurentError && e.status < 0);
    const ex = eng.explain(prov.publicKey);
    assert.equal(ex.tier, 6); assert.equal(ex.previousTier, 7); assert.equal(ex.incubating, 1);
    assert.equal(ex.ruleName, 'promoted'); assert.equal(ex.era, 2); assert.equal(ex.eraUptimePpm, 1000000);
    assert.deepEqual(ex.components.map((c) => c.name), ['uptime', 'audit', 'jobs', 'stake', 'tenure']);
    assert.equal(ex.components.reduce((t, c) => t + c.contributionPpm, 0), ex.scorePpm);
    assert.equal(ex.auditors, 3);
    assert.match(ex.text, /tier 6/i);
    const cert = eng.certificate(prov.publicKey);
    assert.equal(cert.type, 'tier_cert'); assert.equal(cert.tier, 6); assert.equal(cert.scorePpm, ex.scorePpm);
    assert.deepEqual(cert.auditors, auds.map((a) => a.publicKey).sort((x, y) => (gr.toHex(x) < gr.toHex(y) ? -1 : 1)));
    // signed by the three auditors, it verifies as a quorum of 3 and decodes to the same object
    let env = auds[0].sign({ statement: 'tier_cert', issuedAt: G + 3 * E, expiresAt: G + 40 * E, subject: prov.publicKey }, gr.encode(cert));
    env = auds[2].cosign(auds[1].cosign(env));
    assert.deepEqual(gr.verifyTierCertificate(trust, env, { now: G + 3 * E, quorum: 3 }), cert);
    assert.throws(() => eng.certificate(seed(9)), { code: 'GPURENT_E_UNKNOWN_PROVIDER' });
    assert.throws(() => eng.explain(seed(9)), (e) => e instanceof gr.TierError && e.code === 'GPURENT_E_UNKNOWN_PROVIDER');
  } finally { eng.free(); trust.free(); [prov, stranger, ...auds].forEach((k) => k.free()); }
  assert.throws(() => eng.nextEra, /after free/);
  assert.throws(() => new gr.TierEngine({ tierCount: 2 }), gr.GpurentError); // below the 3 tiers a table needs
});

test('adoptReplay: a store given another store\'s replay memory refuses what that store saw', () => {
  const k = gr.Key.generate(), seen = new gr.TrustStore(), fresh = new gr.TrustStore();
  try {
    for (const t of [seen, fresh]) t.add(k.publicKey, gr.Role.provider);
    const payload = gr.encode({ type: 'gpu', model: 'H100', ccMajor: 9 });
    const env = k.sign({ statement: 'gpu', issuedAt: NOW, expiresAt: NOW + 60, nonce: seed(9).subarray(0, 16) }, payload);
    gr.verifyEnvelope(seen, env, { now: NOW });
    assert.throws(() => gr.verifyEnvelope(seen, env, { now: NOW }), { code: 'GPURENT_E_REPLAYED' });
    const other = new gr.TrustStore();
    try {
      other.add(k.publicKey, gr.Role.provider);
      fresh.adoptReplay(seen);
      assert.throws(() => gr.verifyEnvelope(fresh, env, { now: NOW }), { code: 'GPURENT_E_REPLAYED' });
      gr.verifyEnvelope(other, env, { now: NOW }); // a store without the window accepts it once
      assert.equal(fresh.size, 1); // keys are untouched
      assert.throws(() => fresh.adoptReplay({}), { code: 'GPURENT_E_INVALID_ARG' });
    } finally { other.free(); }
  } finally { k.free(); seen.free(); fresh.free(); }
});
