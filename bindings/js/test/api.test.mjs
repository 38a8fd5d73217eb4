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
