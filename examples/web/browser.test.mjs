// The marketplace page in a real browser: Debian's chromium, headless,
// driven over the DevTools protocol on a pipe (no extra npm package), against
// the page served on a free loopback port. Saves build/web-test/marketplace.png.
//   node --test examples/web/browser.test.mjs   (after make web-build)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { serve } from './serve.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WEB = `${ROOT}build/web`;
const SHOT_DIR = `${ROOT}build/web-test`;
const CHROMIUM = process.env.CHROMIUM ?? ['chromium', 'chromium-browser'].find((c) => {
  try { execFileSync('sh', ['-c', `command -v ${c}`]); return true; } catch { return false; }
});

// A minimal DevTools client over --remote-debugging-pipe (fd 3 in, fd 4 out,
// messages end with a NUL byte).
class Cdp {
  constructor(proc) {
    this.proc = proc; this.id = 0; this.pending = new Map(); this.buf = '';
    // If chromium dies (missing libraries, a crash), fail what waits on it now.
    proc.on('exit', (code, sig) => {
      for (const { fail } of this.pending.values()) fail(new Error(`chromium exited (${code ?? sig})`));
      this.pending.clear();
      this.dead = `chromium exited (${code ?? sig})`;
    });
    proc.on('error', (e) => { this.dead = `chromium did not start: ${e.message}`; });
    proc.stdio[4].on('data', (d) => {
      this.buf += d.toString('utf8');
      let i;
      while ((i = this.buf.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, i)); this.buf = this.buf.slice(i + 1);
        if (msg.id && this.pending.has(msg.id)) {
          const { ok, fail } = this.pending.get(msg.id); this.pending.delete(msg.id);
          msg.error ? fail(new Error(`${msg.error.message}`)) : ok(msg.result);
        } else this.onEvent?.(msg);
      }
    });
  }
  send(method, params = {}, sessionId) {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = ++this.id;
    this.proc.stdio[3].write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return new Promise((ok, fail) => this.pending.set(id, { ok, fail }));
  }
}

let browser, server, profile;
after(async () => {
  if (browser && browser.exitCode === null && browser.signalCode === null) {
    // Chromium runs in its own process group (detached below): kill the
    // renderer and helper processes with it, then wait for the main one, so
    // nothing still writes into the profile while it is removed.
    const gone = new Promise((ok) => browser.once('exit', ok));
    try { process.kill(-browser.pid, 'SIGKILL'); } catch { browser.kill('SIGKILL'); }
    await gone;
  }
  await new Promise((ok) => (server ? server.close(ok) : ok()));
  if (profile) rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

test('the marketplace page in headless chromium', { skip: !CHROMIUM && 'chromium is not installed',
  timeout: 120000 }, async () => {
  assert.ok(existsSync(`${WEB}/index.html`), 'run make web-build first');
  server = await serve(WEB, 0);
  const url = `http://127.0.0.1:${server.address().port}/`;
  profile = mkdtempSync(`${tmpdir()}/gpurent-chromium-`);
  browser = spawn(CHROMIUM, ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--remote-debugging-pipe',
    `--user-data-dir=${profile}`, '--no-first-run', '--window-size=1280,1600', 'about:blank'],
  { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true });
  const cdp = new Cdp(browser);
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const page = (m, p) => cdp.send(m, p, sessionId);
  const logs = [];
  cdp.onEvent = (msg) => {
    if (msg.method === 'Runtime.exceptionThrown') logs.push(`exception: ${msg.params.exceptionDetails.exception?.description ?? msg.params.exceptionDetails.text}`);
    if (msg.method === 'Runtime.consoleAPICalled') logs.push(`console: ${msg.params.args.map((a) => a.value ?? a.description).join(' ')}`);
  };
  await page('Runtime.enable');
  const evaluate = async (expr) => {
    const r = await page('Runtime.evaluate', { expression: expr, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
  };
  const waitFor = async (expr, what, ms = 30000) => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((ok) => setTimeout(ok, 100)))
      if (await evaluate(expr)) return;
    throw new Error(`timed out waiting for ${what} at ${await evaluate('location.href')}: ${await evaluate('document.body ? document.body.innerText : ""')}\n${logs.join('\n')}`);
  };
  await page('Emulation.setDeviceMetricsOverride', { width: 1280, height: 1600, deviceScaleFactor: 1, mobile: false });
  // First the hand-made market (examples/web/export_demo.mjs), whose named
  // providers and prices are checked one by one; then the default market
  // that `gpurent demo --export` wrote, against what check_market.mjs finds.
  const nav = await page('Page.navigate', { url: `${url}?market=curated` });
  logs.push(`navigate: ${JSON.stringify(nav)}`);
  await waitFor(`document.body && document.body.dataset.ready === '1'`, 'the page to load the market');

  // Providers: GPU, price with its unit, tier, certificate verdicts.
  const rows = await evaluate(`[...document.querySelectorAll('#providers tbody tr')].map(r => r.innerText)`);
  assert.ok(rows.length >= 5, rows.join('\n'));
  assert.ok(rows.some((r) => /H100 SXM5 80GB/.test(r) && /2\.49 per GPU-hour/.test(r) && /Tier 2/.test(r)), rows.join('\n'));
  assert.equal(await evaluate(`document.querySelectorAll('[data-cert=verified]').length`), rows.length - 1);
  const unverified = await evaluate(`[...document.querySelectorAll('[data-cert=unverified]')].map(e => e.closest('tr').innerText)`);
  assert.equal(unverified.length, 1);
  assert.match(unverified[0], /Unknown Newcomer[\s\S]*Not verified/);

  // The form: a request that fits...
  const fill = (vals) => evaluate(`(() => { const v = ${JSON.stringify(vals)};
    for (const [id, x] of Object.entries(v)) { const e = document.getElementById(id); e.value = x; e.dispatchEvent(new Event('input', {bubbles: true})); }
    document.getElementById('f-submit').click(); return true; })()`);
  await fill({ 'f-model': 'H100 SXM5 80GB', 'f-count': '4', 'f-vram': '80', 'f-price': '3', 'f-cuda': '12.2' });
  await waitFor(`!!document.querySelector('[data-result=found]')`, 'candidates');
  const cands = await evaluate(`[...document.querySelectorAll('#candidates li')].map(e => e.innerText)`);
  // candidates name the model by its canonical id (h100-sxm5-80gb, docs/models.md)
  assert.ok(cands.length >= 1 && cands.every((c) => /Nordlicht Compute/.test(c) && /h100/i.test(c)), cands.join('\n'));

  // ... and one that does not: explained, with the relaxation that helps.
  await fill({ 'f-model': 'RTX 4090', 'f-count': '2', 'f-vram': '0', 'f-price': '0.30', 'f-cuda': '' });
  await waitFor(`!!document.querySelector('[data-result=explained]')`, 'an explanation');
  const relax = await evaluate(`[...document.querySelectorAll('#relaxations li')].map(e => e.dataset.relax + ': ' + e.innerText)`);
  assert.ok(relax.some((r) => /^price: Raise your price limit to 0\.4[46]/.test(r)), relax.join('\n'));

  // Receipts: the genuine one verified with its signers, the altered one rejected.
  const good = await evaluate(`[...document.querySelectorAll('[data-receipt=verified]')].map(e => e.innerText)`);
  assert.equal(good.length, 1);
  assert.match(good[0], /Signed by Matcher One, Matcher Two, Matcher Three|Signed by (Matcher \w+, ){2}Matcher \w+/);
  const bad = await evaluate(`[...document.querySelectorAll('[data-receipt=rejected]')].map(e => e.dataset.code + ' ' + e.innerText)`);
  assert.equal(bad.length, 1);
  assert.match(bad[0], /^GPURENT_E_BAD_SIGNATURE[\s\S]*Rejected/);

  const shot = await page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
  mkdirSync(SHOT_DIR, { recursive: true });
  writeFileSync(`${SHOT_DIR}/marketplace.png`, Buffer.from(shot.data, 'base64'));

  // The CLI's export: the page shows every node of every verified offer, a
  // verified certificate for each provider check_market.mjs verified, the
  // receipt with its two matchmakers and the altered copy rejected.
  const want = JSON.parse(execFileSync(process.execPath, [`${ROOT}examples/web/check_market.mjs`, `${WEB}/market`], { encoding: 'utf8' }));
  await page('Page.navigate', { url });
  await waitFor(`document.body && document.body.dataset.ready === '1' && !location.search`, 'the exported market to load');
  const cliRows = await evaluate(`document.querySelectorAll('#providers tbody tr').length`);
  assert.equal(cliRows, want.nodes);
  assert.ok(want.certificates[0] > 0 && want.offers[0] === want.offers[1], JSON.stringify(want));
  const certProviders = await evaluate(`new Set([...document.querySelectorAll('[data-cert=verified]')].map(e => e.closest('tr').dataset.provider)).size`);
  assert.equal(certProviders, want.certificates[0]);
  const cliGood = await evaluate(`[...document.querySelectorAll('[data-receipt=verified] [data-signers]')].map(e => +e.dataset.signers)`);
  assert.deepEqual(cliGood, [want.receipts[0].signers]);
  assert.equal(want.receipts[0].status, 'GPURENT_OK');
  const cliBad = await evaluate(`[...document.querySelectorAll('[data-receipt=rejected]')].map(e => e.dataset.code)`);
  assert.deepEqual(cliBad, [want.receipts[1].status]);
  // a request for the first model on offer, at any price: candidates
  const model = await evaluate(`document.querySelector('#f-model option[value]:not([value=""])').value`);
  await fill({ 'f-model': model, 'f-count': '1', 'f-vram': '0', 'f-price': '', 'f-cuda': '' });
  await waitFor(`!!document.querySelector('[data-result=found]')`, `candidates for ${model}`);
  const cliShot = await page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
  writeFileSync(`${SHOT_DIR}/marketplace-cli-export.png`, Buffer.from(cliShot.data, 'base64'));
});
