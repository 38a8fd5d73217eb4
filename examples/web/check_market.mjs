// Check an exported demo market the way the marketplace page reads it, in
// Node, and print what verified as one JSON line:
//
//   node examples/web/check_market.mjs DIR     (DIR/market.json, from
//        `gpurent demo --export DIR` or examples/web/export_demo.mjs)
//
// {"offers":[ok,total],"nodes":N,"gpuReports":[ok,total],"certificates":[ok,total],
//  "requests":N,"requestsWithCandidates":N,"receipts":[{"label","status","signers","assignments"}]}
// Every verdict comes from libgpurent (bindings/js); the CLI's tests use it
// to check that what the CLI exports verifies in JavaScript.
import { readFileSync } from 'node:fs';
import * as gr from '../../bindings/js/gpurent.mjs';

const dir = process.argv[2];
if (!dir) { console.error('usage: check_market.mjs DIR'); process.exit(2); }
await gr.init();
const demo = JSON.parse(readFileSync(`${dir}/market.json`, 'utf8'));
if (demo.format !== 'gpurent-demo-market/1') throw new Error(`${dir}/market.json: format ${demo.format}`);
const at = { now: demo.now, skew: demo.skew };
const trust = new gr.TrustStore();
for (const p of demo.trust) trust.add(gr.fromHex(p.publicKey), p.roles);
const market = new gr.Market({ preset: 'balanced' });
const code = (f) => { try { f(); return 'GPURENT_OK'; } catch (e) { if (!(e instanceof gr.GpurentError)) throw e; return e.code; } };

let offers = 0, nodes = 0, reports = 0, certs = 0, withCandidates = 0;
for (const h of demo.offers) {
  if (code(() => {
    const offer = gr.decode(gr.verifyEnvelope(trust, gr.fromHex(h), { ...at, statement: 'offer', checkReplay: false }).payload);
    market.putOffer(offer);
    nodes += offer.nodes.length;
  }) === 'GPURENT_OK') offers++;
}
for (const h of demo.gpuReports ?? []) {
  if (code(() => gr.decodeGpuReport(gr.verifyEnvelope(trust, gr.fromHex(h), { ...at, statement: 'gpu_report', checkReplay: false }).payload)) === 'GPURENT_OK') reports++;
}
for (const h of demo.certificates) {
  if (code(() => {
    const c = gr.verifyTierCertificate(trust, gr.fromHex(h), { ...at, quorum: demo.certQuorum });
    market.setTrust(c.providerKey, c.tier, c.scorePpm);
  }) === 'GPURENT_OK') certs++;
}
for (const h of demo.requests ?? []) if (market.best(gr.fromHex(h), 1).length) withCandidates++;
const receipts = demo.receipts.map((r) => {
  let signers = 0, assignments = 0;
  const status = code(() => {
    const v = gr.verifyEnvelope(trust, gr.fromHex(r.envelope), { ...at, statement: 'match_receipt', quorum: demo.receiptQuorum, checkReplay: false });
    signers = v.signers.length;
    assignments = gr.decode(v.payload).assignments.length;
  });
  return { label: r.label, status, signers, assignments };
});
console.log(JSON.stringify({ offers: [offers, demo.offers.length], nodes, gpuReports: [reports, (demo.gpuReports ?? []).length],
  certificates: [certs, demo.certificates.length], requests: (demo.requests ?? []).length, requestsWithCandidates: withCandidates, receipts }));
market.free(); trust.free();
