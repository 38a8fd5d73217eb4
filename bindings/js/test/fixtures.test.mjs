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
// The items of NAME.rec (`device`, `challenge`, `job`), each as its lines.
function recItems(file, item) {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  const out = [];
  for (const l of lines) {
    if (l === item) out.push([]);
    else if (!l.includes(' ') && out.length) out.push(null); // another kind of item
    else if (out.length && out[out.length - 1]) out[out.length - 1].push(l);
  }
  return out.filter(Boolean);
}
// A decoded value in the .rec notation: a probed value as STATE ERROR VALUE,
// a check as STATE ERROR VALUE RATIO_PPM VERDICT, bytes as hex:.
function recText(v) {
  if (v instanceof Uint8Array) return `hex:${gr.toHex(v)}`;
  if (v && typeof v === 'object' && 'state' in v)
    return [v.state, v.error, recText(v.value), ...('verdict' in v ? [v.ratioPpm, v.verdict] : [])].join(' ');
  return String(v);
}
// An item object as .rec lines over the fields the fixture names (the rest
// must be zero there), for comparison as sets.
function itemText(obj, fixtureLines) {
  return fixtureLines.map((l) => { const k = l.slice(0, l.indexOf(' ')); return `${k} ${recText(obj[camel(k)])}`; }).join('\n');
}
function same(actual, expected, what) {
  if (actual && typeof actual === 'object' && !(actual instanceof Uint8Array) && !Array.isArray(actual)) {
    assert.equal(recText(actual), expected, what); return;
  }
  if (expected.startsWith('hex:')) {
    const e = expected.slice(4), a = gr.toHex(actual);
    assert.equal(a.slice(0, e.length), e, what); // exact length, zero-padded arrays
    assert.ok(/^0*$/.test(a.slice(e.length)), what);
  } else if (typeof actual === 'number' || typeof actual === 'bigint') assert.equal(BigInt(actual), BigInt(expected), what);
  else assert.equal(actual, expected, what);
}

const MAPPED = new Set(['gpu', 'offer', 'request', 'tier_cert', 'revocation', 'match_receipt', 'gpu_report', 'audit_report']);
// Items compared field by field, as sets where the encoder sorts them.
const ITEMS = { gpu_report: [['device', 'devices']], audit_report: [['challenge', 'challenges'], ['job', 'jobs']] };
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
    for (const [item, list] of ITEMS[kind] ?? []) {
      const want = recItems(`${WIRE}${name}.rec`, item);
      assert.equal(rec[list].length, want.length, `${name}: ${list}`);
      const got = want.map((lines, i) => itemText(rec[list][i], lines));
      // pair each fixture item with a decoded one (the decoder returns canonical order)
      const pool = rec[list].slice();
      for (const lines of want) {
        const text = lines.join('\n');
        const at = pool.findIndex((o) => itemText(o, lines) === text);
        assert.ok(at >= 0, `${name}: no decoded ${item} matches\n${text}\ngot\n${got.join('\n--\n')}`);
        pool.splice(at, 1);
      }
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
