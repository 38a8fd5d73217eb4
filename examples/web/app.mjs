// The marketplace page: everything it states about an offer, certificate or
// receipt comes from libgpurent (bindings/js); this file only shows it.
import * as gr from './gpurent.mjs';

const $ = (s) => document.querySelector(s);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (k === 'class') e.className = v; else e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : String(k));
  return e;
};
const money = (micro) => (Number(micro) / 1e6).toFixed(2);
const INTERFACES = ['any', 'PCIe', 'SXM'];

let market, trust, names, demo;
const nameOf = (pk) => names.get(gr.toHex(pk)) ?? `key ${gr.toHex(pk).slice(0, 12)}…`;
const explainError = (e) => ({
  GPURENT_E_BAD_SIGNATURE: 'the signatures do not match the content: it was changed after signing',
  GPURENT_E_QUORUM_NOT_MET: 'not enough trusted signers',
  GPURENT_E_UNKNOWN_ISSUER: 'signed by someone this market does not trust',
  GPURENT_E_EXPIRED: 'it has expired',
  GPURENT_E_REVOKED: 'the signer\'s key was revoked',
}[e.code] ?? e.detail);

async function main() {
  await gr.init();
  // ?market=NAME loads NAME/market.json beside the page (a plain folder name
  // only); the default, market/, is what `gpurent demo --export` wrote.
  const which = new URLSearchParams(location.search).get('market') ?? 'market';
  if (!/^[a-z0-9][a-z0-9-]*$/.test(which)) throw new Error(`not a market folder name: ${which}`);
  demo = await (await fetch(`${which}/market.json`)).json();
  trust = new gr.TrustStore();
  names = new Map(demo.trust.map((p) => [p.publicKey, p.name]));
  for (const p of demo.trust) trust.add(gr.fromHex(p.publicKey), p.roles);
  market = new gr.Market({ preset: 'balanced' });
  const certs = new Map();
  // A verified certificate is filed under the provider it names; one that
  // does not verify, under its envelope's subject when it has one (a
  // certificate need not carry a subject: the CLI's demo signs none).
  for (const envHex of demo.certificates) {
    const env = gr.fromHex(envHex);
    try {
      const c = gr.verifyTierCertificate(trust, env, { now: demo.now, skew: demo.skew, quorum: demo.certQuorum });
      certs.set(gr.toHex(c.providerKey), { ok: true, cert: c });
    } catch (e) {
      const subject = gr.toHex(gr.decodeEnvelope(env).subject);
      if (subject && !certs.get(subject)?.ok) certs.set(subject, { ok: false, why: explainError(e), code: e.code });
    }
  }
  const rows = $('#providers tbody'), models = new Set();
  for (const envHex of demo.offers) {
    let offer;
    try {
      const v = gr.verifyEnvelope(trust, gr.fromHex(envHex), { now: demo.now, skew: demo.skew, statement: 'offer', checkReplay: false });
      offer = gr.decode(v.payload);
    } catch (e) { continue; } // an offer that does not verify is not shown at all
    market.putOffer(offer);
    const c = certs.get(gr.toHex(offer.providerKey));
    if (c?.ok) market.setTrust(offer.providerKey, c.cert.tier, c.cert.scorePpm);
    for (const n of offer.nodes) {
      models.add(n.gpu.model);
      rows.append(el('tr', { 'data-provider': nameOf(offer.providerKey) },
        el('td', {}, nameOf(offer.providerKey)), el('td', {}, offer.region),
        el('td', {}, `${n.gpu.model}`, el('br'), el('small', {}, `${INTERFACES[n.gpu.interface] ?? ''}, CUDA ${Math.floor(n.gpu.cudaVersion / 1000)}.${Math.floor(n.gpu.cudaVersion % 1000 / 10)}`)),
        el('td', {}, `${n.gpuFree} of ${n.gpuCount}`),
        el('td', {}, `${Math.round(Number(n.gpu.memoryMib) / 1024)} GB`),
        el('td', { 'data-price': '' }, `${money(n.priceMicroPerGpuHour)} per GPU-hour`),
        el('td', {}, c?.ok ? `Tier ${c.cert.tier} (score ${(c.cert.scorePpm / 10000).toFixed(0)}%)` : 'Unrated'),
        c?.ok ? el('td', { class: 'ok', 'data-cert': 'verified' }, '✔ Verified', el('br'),
                  el('small', {}, `by ${c.cert.auditors.map(nameOf).join(', ')}`))
              : el('td', { class: 'bad', 'data-cert': 'unverified' }, '✘ Not verified', el('br'), el('small', {}, c?.why ?? 'no certificate'))));
    }
  }
  for (const m of [...models].sort()) $('#f-model').append(el('option', { value: m }, m));
  $('#request').addEventListener('submit', (ev) => { ev.preventDefault(); findGpus(); });
  showReceipts();
  $('#status').textContent = `${rows.children.length} GPU nodes from ${demo.offers.length} providers, all signatures checked.`;
  document.body.dataset.ready = '1';
}

let serial = 0;
function requestFromForm() {
  const f = new FormData($('#request'));
  const cuda = String(f.get('cuda') || '').trim();
  const [maj, min = '0'] = cuda ? cuda.split('.') : ['0'];
  const price = String(f.get('price') || '').trim();
  return { requestId: `page-${++serial}`, gpuCount: Number(f.get('count')) || 1, durationS: 3600,
    submittedAt: demo.now, minVramMib: Math.round(Number(f.get('vram') || 0) * 1000 * 1000 * 1000 / 1048576),
    maxPriceMicroPerGpuHour: price ? Math.round(Number(price) * 1e6) : 0,
    minCudaVersion: cuda ? Number(maj) * 1000 + Number(min) * 10 : 0,
    models: f.get('model') ? [String(f.get('model'))] : [] };
}

const RELAX_WORDS = {
  price: (r) => `raise your price limit to ${money(r.to)} per GPU-hour`,
  vram: (r) => `accept GPUs with ${Math.floor(Number(r.to) * 1048576 / 1e9)} GB of memory`,
  cuda: (r) => `accept CUDA ${Math.floor(Number(r.to) / 1000)}.${Math.floor(Number(r.to) % 1000 / 10)}`,
  model: (r) => `also accept ${r.item}`,
  gpus: (r) => `ask for ${r.to} GPUs`,
  busy: (r) => `ask for ${r.to} GPUs`,
};

function findGpus() {
  const out = $('#results');
  out.replaceChildren();
  let req;
  try { req = requestFromForm(); market.best(req, 1); } catch (e) {
    out.append(el('p', { class: 'bad', 'data-result': 'error' }, `That request is not valid: ${e.detail ?? e.message}`));
    return;
  }
  const best = market.best(req, 5);
  if (best.length) {
    out.append(el('p', { 'data-result': 'found' }, `${best.length} best match${best.length > 1 ? 'es' : ''}, best first:`));
    const list = el('ol', { id: 'candidates' });
    for (const c of best)
      list.append(el('li', { 'data-candidate': c.nodeId },
        el('strong', {}, `${nameOf(c.providerKey)}`), ` — ${c.model} in ${c.region}, ${money(c.priceMicroPerGpuHour)} per GPU-hour `,
        el('small', {}, `(node ${c.nodeId}, score ${c.breakdown.total})`)));
    out.append(list);
    return;
  }
  const ex = market.explain(req);
  const hint = el('div', { class: 'hint', 'data-result': 'explained' },
    el('p', {}, el('strong', {}, 'Nothing fits this request right now. '),
      `${ex.nodesFeasible} of ${ex.nodesTotal} nodes meet every condition.`));
  if (ex.relax.length) {
    const ul = el('ul', { id: 'relaxations' });
    for (const r of ex.relax) {
      const say = RELAX_WORDS[r.constraintName]?.(r) ?? `relax “${r.constraintName}”`;
      ul.append(el('li', { 'data-relax': r.constraintName }, `${say[0].toUpperCase()}${say.slice(1)}: `,
        `${r.nodesAdded} more node${r.nodesAdded === 1 ? '' : 's'} would fit`));
    }
    hint.append(el('p', {}, 'What would help:'), ul);
  }
  hint.append(el('details', {}, el('summary', {}, 'Full explanation'), el('pre', {}, ex.text)));
  out.append(hint);
}

function showReceipts() {
  const box = $('#receipts');
  for (const r of demo.receipts) {
    const env = gr.fromHex(r.envelope);
    try {
      const v = gr.verifyEnvelope(trust, env, { now: demo.now, skew: demo.skew, statement: 'match_receipt',
        quorum: demo.receiptQuorum, checkReplay: false });
      const rc = gr.decode(v.payload);
      const card = el('div', { class: 'card good', 'data-receipt': 'verified' },
        el('p', {}, el('strong', {}, r.label), ' — ', el('span', { class: 'ok' }, '✔ Verified')),
        el('p', { 'data-signers': v.signers.length }, `Signed by ${v.signers.map(nameOf).join(', ')} `,
          el('small', {}, `(${demo.receiptQuorum} needed)`)));
      const ul = el('ul');
      for (const a of rc.assignments)
        ul.append(el('li', {}, `${a.requestId}: `, a.placements.map((p) =>
          `${p.gpus || 1} GPU${p.gpus === 1 ? '' : 's'} on ${nameOf(p.providerKey)} (${p.nodeId}) at ${money(p.priceMicroPerGpuHour)} per GPU-hour`).join('; ')));
      card.append(ul);
      box.append(card);
    } catch (e) {
      box.append(el('div', { class: 'card rejected', 'data-receipt': 'rejected', 'data-code': e.code },
        el('p', {}, el('strong', {}, r.label), ' — ', el('span', { class: 'bad' }, '✘ Rejected')),
        el('p', {}, `Do not rely on it: ${explainError(e)}.`), el('small', {}, e.code)));
    }
  }
}

main().catch((e) => { $('#status').textContent = `The market could not be loaded: ${e.message}`; document.body.dataset.ready = 'error'; throw e; });
