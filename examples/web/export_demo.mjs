// Export a small demo market for the marketplace page: signed offers, tier
// certificates co-signed by auditors, a match receipt co-signed by matchers
// (and a tampered copy of it), and the trust file naming every key.
//
//   node examples/web/export_demo.mjs DIR      -> DIR/market.json
//
// Keys come from fixed seeds so the export is the same on every machine.
// Everything is made by the library (bindings/js): this script only decides
// what the demo market holds.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as gr from '../../bindings/js/gpurent.mjs';

const dir = process.argv[2];
if (!dir) { console.error('usage: export_demo.mjs DIR'); process.exit(2); }
await gr.init();

const NOW = 1760000000;                 // the demo's clock (Unix seconds)
const DAY = 86400;
const seed = (n) => new Uint8Array(32).fill(n);
const key = (n) => gr.Key.fromSeed(seed(n));
const hex = gr.toHex;
let nonce = 0;
const nextNonce = () => { const b = new Uint8Array(16); b[0] = 0xd0; b[15] = ++nonce; return b; };

const parties = [];
function party(n, name, roles) {
  const k = key(n);
  parties.push({ name, roles, publicKey: hex(k.publicKey) });
  return k;
}
const providers = [
  { k: party(0x11, 'Nordlicht Compute', gr.Role.provider), region: 'eu-north', stake: 500000000000,
    nodes: [['h100-a', 'H100 SXM5 80GB', 9, 0, 81559, 66900, 2, 12040, 8, 8, 2490000],
            ['h100-b', 'H100 SXM5 80GB', 9, 0, 81559, 66900, 2, 12040, 8, 4, 2450000]], tier: [2, 870000] },
  { k: party(0x12, 'Rhine GPU Co-op', gr.Role.provider), region: 'eu-west', stake: 250000000000,
    nodes: [['a100-1', 'A100 SXM4 80GB', 8, 0, 81920, 19500, 2, 12020, 8, 6, 1390000]], tier: [3, 720000] },
  { k: party(0x13, 'Lakeside Renderfarm', gr.Role.provider), region: 'us-east', stake: 100000000000,
    nodes: [['4090-1', 'RTX 4090', 8, 9, 24564, 82600, 1, 12040, 2, 2, 440000],
            ['4090-2', 'RTX 4090', 8, 9, 24564, 82600, 1, 12040, 2, 2, 460000]], tier: [4, 610000] },
  { k: party(0x14, 'Unknown Newcomer', gr.Role.provider), region: 'us-east', stake: 0,
    nodes: [['l40s-1', 'L40S 48GB', 8, 9, 46068, 91600, 1, 12020, 4, 4, 990000]], tier: [5, 400000],
    untrustedCert: true },
];
const auditors = [party(0x21, 'Auditor Alpha', gr.Role.auditor), party(0x22, 'Auditor Beta', gr.Role.auditor),
  party(0x23, 'Auditor Gamma', gr.Role.auditor)];
const matchers = [party(0x31, 'Matcher One', gr.Role.matcher), party(0x32, 'Matcher Two', gr.Role.matcher),
  party(0x33, 'Matcher Three', gr.Role.matcher)];
const stranger = key(0x41); // signs the newcomer's certificate; nobody trusts it

function signed(k, statement, payload, subject, cosigners = []) {
  let env = k.sign({ statement, issuedAt: NOW - DAY, expiresAt: NOW + 30 * DAY, nonce: nextNonce(), subject }, payload);
  for (const c of cosigners) env = c.cosign(env);
  return hex(env);
}

const market = new gr.Market({ preset: 'balanced', seed: seed(0x5e) });
const offers = [], certs = [];
for (const p of providers) {
  const offer = { type: 'offer', providerKey: p.k.publicKey, seq: 1, region: p.region, stakeMicro: p.stake,
    nodes: p.nodes.map(([id, model, ccMajor, ccMinor, mem, fp32, iface, cuda, count, free, price]) => ({
      nodeId: id, gpu: { model, ccMajor, ccMinor, memoryMib: mem, fp32Gflops: fp32, interface: iface, cudaVersion: cuda },
      gpuCount: count, gpuFree: free, cpuMillicores: 64000, ramMib: 524288, diskGib: 4000, priceMicroPerGpuHour: price })) };
  const bytes = gr.encode(offer);
  offers.push(signed(p.k, 'offer', bytes, new Uint8Array(0)));
  market.putOffer(bytes);
  market.setTrust(p.k.publicKey, p.tier[0], p.tier[1]);
  const signers = p.untrustedCert ? [stranger] : [auditors[0], auditors[1]];
  const auditorKeys = signers.map((a) => a.publicKey).sort((a, b) => (hex(a) < hex(b) ? -1 : 1));
  // confidence is derived, not chosen (floor(score x 10^6 / mean), docs/tiers.md): the encoder checks it
  const meanPpm = Math.min(1000000, p.tier[1] + 50000), confidencePpm = Math.floor(p.tier[1] * 1000000 / meanPpm);
  const cert = gr.encode({ type: 'tier_cert', providerKey: p.k.publicKey, era: 42, tier: p.tier[0], incubating: 0,
    scorePpm: p.tier[1], meanPpm, confidencePpm, uptimePpm: 998000,
    erasInTier: 6, pointsPpm: 1000000, evidenceDigest: seed(0xe0), paramsDigest: seed(0xf0), auditors: auditorKeys });
  certs.push(signed(signers[0], 'tier_cert', cert, p.k.publicKey, signers.slice(1)));
}

// One batch: two requests matched, the receipt co-signed by all three matchers.
market.addRequest({ requestId: 'train-llama', gpuCount: 8, durationS: 86400, submittedAt: NOW - 600, models: ['H100 SXM5 80GB'] });
market.addRequest({ requestId: 'render-film', gpuCount: 2, durationS: 7200, submittedAt: NOW - 300, maxPriceMicroPerGpuHour: 500000 });
const { bytes: receipt } = market.match(NOW);
const receiptEnv = gr.fromHex(signed(matchers[0], 'match_receipt', receipt, new Uint8Array(0), [matchers[1], matchers[2]]));
// The tampered copy: the same envelope with one byte of the receipt changed
// (its last byte, a placement's price), signatures untouched.
const tampered = receiptEnv.slice();
const at = gr.toHex(tampered).indexOf(gr.toHex(receipt)) / 2 + receipt.length - 1;
tampered[at] ^= 0x01;

mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}/market.json`, JSON.stringify({
  format: 'gpurent-demo-market/1', now: NOW, skew: 300, certQuorum: 2, receiptQuorum: 2,
  trust: parties, offers, certificates: certs,
  receipts: [{ label: 'Batch receipt', envelope: hex(receiptEnv) },
             { label: 'Batch receipt (altered in transit)', envelope: hex(tampered) }],
}, null, 1));
market.free();
console.log(`export_demo: ${offers.length} offers, ${certs.length} certificates, 2 receipts -> ${dir}/market.json`);
