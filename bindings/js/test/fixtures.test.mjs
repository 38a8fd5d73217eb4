// The shared fixtures of the C, Python and Go suites, through the
// WebAssembly build: byte-identical records, statuses, envelopes, receipts.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as gr from '../gpurent.mjs';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WIRE = `${ROOT}tests/fixtures/wire/`;
const hexOf = (f) => gr.fromHex(readFileSync(f, 'utf8').trim().split('\n').filter((l) => l && !l.startsWith('#'))[0]);
const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

before(async () => { await gr.init(); });

test('struct layouts agree with the C compiler', () => {
  for (const [name, js, c] of gr.structLayouts()) assert.equal(js, c, `struct ${name}`);
});

// The record's own fields from NAME.rec (lines before its first item).
function recFields(file) {
  const out = {};
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  const kind = lines.shift().split(' ')[1];
  for (const l of lines) {
    const sp = l.indexOf(' ');
    if (sp < 0) break; // an item starts
    const k = l.slice(0, sp), v = l.slice(sp + 1);
    if (k.includes('.')) continue;
    (out[k] ??= []).push(v);
  }
  return { kind, fields: out };
}
function same(actual, expected, what) {
  if (expected.startsWith('hex:')) {
    const e = expected.slice(4), a = gr.toHex(actual);
    assert.equal(a.slice(0, e.length), e, what); // exact length, zero-padded arrays
    assert.ok(/^0*$/.test(a.slice(e.length)), what);
  } else if (typeof actual === 'number' || typeof actual === 'bigint') assert.equal(BigInt(actual), BigInt(expected), what);
  else assert.equal(actual, expected, what);
}

const MAPPED = new Set(['gpu', 'offer', 'request', 'tier_cert', 'revocation', 'match_receipt']);
for (const f of readdirSync(WIRE).filter((n) => n.endsWith('.hex')).sort()) {
  const name = f.slice(0, -4);
  test(`wire fixture ${name}: decode, re-encode byte-identical, fields as in .rec`, () => {
    const bytes = hexOf(WIRE + f);
    const { kind, fields } = recFields(`${WIRE}${name}.rec`);
    gr.checkCanonical(bytes);
    assert.equal(gr.recordType(bytes), kind);
    if (!MAPPED.has(kind)) return;
    const rec = gr.decode(bytes);
    assert.equal(rec.type, kind);
    assert.equal(gr.toHex(gr.encode(rec)), gr.toHex(bytes));
    for (const [k, vals] of Object.entries(fields)) {
      const v = rec[camel(k)];
      if (v === undefined) continue; // a C member with no JS field (counts written as lists)
      // lists are sets: the encoder writes them sorted (hex keys and strings alike)
      if (Array.isArray(v)) [...vals].sort().forEach((x, i) => same([...v].sort((p, q) => (gr.toHex(typeof p === 'string' ? new TextEncoder().encode(p) : p) < gr.toHex(typeof q === 'string' ? new TextEncoder().encode(q) : q) ? -1 : 1))[i], x, `${name}.${k}[${i}]`));
      else same(v, vals[0], `${name}.${k}`);
    }
  });
}

test('a non-canonical or truncated record is a WireError naming the status', () => {
  const bytes = hexOf(`${WIRE}gpu_h100.hex`);
  assert.throws(() => gr.decode(bytes.subarray(0, bytes.length - 1)), (e) => e instanceof gr.WireError && e.code === 'GPURENT_E_TRUNCATED');
  const longer = new Uint8Array([...bytes, 0]);
  assert.throws(() => gr.checkCanonical(longer), (e) => e instanceof gr.WireError && e.status < 0);
  assert.throws(() => gr.decode(new Uint8Array([0xc1])), gr.WireError);
});

// tests/vectors/envelopes_{c,go,py}.txt: every language's signed envelopes.
function vectors(file) {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))
    .map((l) => Object.fromEntries(l.split(' ').map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)]; })));
}
for (const lang of ['c', 'go', 'py']) {
  const vs = vectors(`${ROOT}tests/vectors/envelopes_${lang}.txt`);
  test(`envelope vectors signed by ${lang}: ${vs.length} statuses, signers and re-signed bytes`, () => {
    for (const v of vs) {
      const trust = new gr.TrustStore();
      try {
        for (const e of v.trust.split(',')) { const [seed, roles] = e.split(':'); const k = gr.Key.fromSeed(gr.fromHex(seed)); trust.add(k.publicKey, +roles); k.free(); }
        if (v.revoked !== '-') for (const seed of v.revoked.split(',')) { const k = gr.Key.fromSeed(gr.fromHex(seed)); trust.revoke(k.publicKey); k.free(); }
        const env = gr.fromHex(v.envelope);
        let code = 'GPURENT_OK', res = null;
        try {
          res = gr.verifyEnvelope(trust, env, { now: BigInt(v.now), skew: +v.skew, quorum: +v.quorum, role: +v.role, statement: +v.statement });
        } catch (e) { assert.ok(e instanceof gr.GpurentError, String(e)); code = e.code; }
        assert.equal(code, v.expect, v.name);
        if (res) {
          assert.equal(gr.toHex(res.payload), v.payload, v.name);
          assert.equal(gr.toHex(res.digest), gr.toHex(gr.envelopeDigest(env)), v.name);
          const want = v.signers.split(',').map((s) => { const k = gr.Key.fromSeed(gr.fromHex(s)); const pk = gr.toHex(k.publicKey); k.free(); return pk; }).sort();
          assert.deepEqual(res.signers.map(gr.toHex), want.filter((pk) => res.signers.some((s) => gr.toHex(s) === pk)), v.name);
          assert.ok(res.signers.length >= +v.quorum);
          assert.equal(gr.toHex(res.header.subject), v.subject);
        }
        // Ed25519 is deterministic: re-signing the same header and payload with
        // the same seeds gives the very bytes the other language wrote.
        if (v.mutation === 'none') {
          const seeds = v.signers.split(',');
          const k0 = gr.Key.fromSeed(gr.fromHex(seeds[0]));
          let out = k0.sign({ statement: +v.statement, issuedAt: BigInt(v.issued), expiresAt: BigInt(v.expires),
            nonce: gr.fromHex(v.nonce), subject: gr.fromHex(v.subject) }, gr.fromHex(v.payload));
          k0.free();
          for (const s of seeds.slice(1)) { const k = gr.Key.fromSeed(gr.fromHex(s)); out = k.cosign(out); k.free(); }
          assert.equal(gr.toHex(out), v.envelope, `${v.name} re-signed`);
        }
      } finally { trust.free(); }
    }
  });
}

test('a replayed envelope is refused the second time', () => {
  const v = vectors(`${ROOT}tests/vectors/envelopes_c.txt`).find((x) => x.name === 'offer-ok');
  const trust = new gr.TrustStore();
  const k = gr.Key.fromSeed(gr.fromHex(v.signers)); trust.add(k.publicKey, gr.Role.provider); k.free();
  const env = gr.fromHex(v.envelope);
  gr.verifyEnvelope(trust, env, { now: BigInt(v.now) });
  assert.throws(() => gr.verifyEnvelope(trust, env, { now: BigInt(v.now) }), (e) => e instanceof gr.VerifyError && e.code === 'GPURENT_E_REPLAYED');
  trust.free();
  assert.throws(() => trust.size, /after free/);
});

// tests/fixtures/scenario/market_*.scn: the market script, receipt by receipt.
function runMarketScript(scn) {
  const out = [];
  let market = null, offer = null, last = null;
  for (const line of readFileSync(scn, 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const a = line.split(' ');
    const hx = (s) => gr.fromHex(s.slice(4));
    switch (a[0]) {
      case 'market': market = new gr.Market({ preset: +a[1], seed: hx(a[2]) }); break;
      case 'offer': offer = { type: 'offer', providerKey: hx(a[1]), seq: +a[2], region: a[3], stakeMicro: BigInt(a[4]), nodes: [] }; break;
      case 'node': {
        const n = a.slice(3).map(Number);
        offer.nodes.push({ nodeId: a[1], gpu: { model: a[2], ccMajor: n[0], ccMinor: n[1], memoryMib: n[2], fp32Gflops: n[3],
          interface: n[4], cudaVersion: n[5] }, gpuCount: n[6], gpuFree: n[7], shared: n[8], cpuMillicores: n[9],
          ramMib: n[10], diskGib: n[11], priceMicroPerGpuHour: n[12] });
        break;
      }
      case 'put_offer': market.putOffer(offer); break;
      case 'trust': market.setTrust(hx(a[1]), +a[2], +a[3]); break;
      case 'verified': market.setVerified(hx(a[1]), a[2], a[3] === '1'); break;
      case 'request': {
        const n = a.slice(2, 11).map(Number);
        market.addRequest({ requestId: a[1], gpuCount: n[0], gangNodes: n[1], gangScope: n[2], vramSharePct: n[3],
          minVramMib: n[4], maxPriceMicroPerGpuHour: n[5], allowedTiers: n[6], verifiedOnly: n[7], submittedAt: n[8],
          models: a.slice(11) });
        break;
      }
      case 'match': last = market.match(BigInt(a[1])); out.push(gr.toHex(last.bytes)); break;
      case 'apply': market.apply(last.bytes); break;
      case 'end_lease': market.endLease(a[1]); break;
      default: throw new Error(`unknown directive ${a[0]}`);
    }
  }
  market?.free();
  return out;
}
test('market scenario: receipts byte-identical to the C library', () => {
  const dir = `${ROOT}tests/fixtures/scenario/`;
  for (const f of readdirSync(dir).filter((n) => n.startsWith('market_') && n.endsWith('.scn'))) {
    const want = readFileSync(dir + f.replace('.scn', '.hex'), 'utf8').trim().split('\n');
    const got = runMarketScript(dir + f);
    assert.deepEqual(got, want, f);
    // and each receipt decodes and re-encodes to itself, with the same digest
    for (const h of got) {
      const r = gr.decode(gr.fromHex(h));
      assert.equal(gr.toHex(gr.encode(r)), h);
      assert.equal(gr.toHex(gr.receiptDigest(r)), gr.toHex(gr.receiptDigest(gr.fromHex(h))));
    }
  }
});
