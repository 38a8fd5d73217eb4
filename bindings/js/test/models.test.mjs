// The canonical model and framework tables through the binding
// (gpurent/models.h, docs/models.md): lookups by every name, families, PCI
// ids, the pinned table digests, and a request's framework in a market.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as gr from '../gpurent.mjs';

before(async () => { await gr.init(); });

test('table versions and digests are the ones the C suite pins', () => {
  assert.equal(gr.modelTableVersion(), 1);
  assert.equal(gr.frameworkTableVersion(), 1);
  // tests/test_models.c (MODEL_TABLE_V1_DIGEST, FRAMEWORK_TABLE_V1_DIGEST) and bindings/go/models_test.go
  for (const d of [gr.modelTableDigest(), gr.frameworkTableDigest()]) assert.ok(d instanceof Uint8Array && d.length === 32);
  assert.equal(gr.toHex(gr.modelTableDigest()), '9a7d4dbfc938e70b90e091376c7653bef426fc3ac531e64905732383f3cc8070');
  assert.equal(gr.toHex(gr.frameworkTableDigest()), 'a8bfaa26dcacd346e9019fd82aa5f03d8c1717115503d47735a1102bb4a867b3');
});

test('every id, driver name and alias of every model resolves to its entry', () => {
  const ms = gr.models();
  assert.ok(ms.length >= 30, `${ms.length} models`);
  assert.equal(new Set(ms.map((m) => m.id)).size, ms.length);
  for (const m of ms) {
    assert.ok(m.id && m.family && (m.vendor === 'NVIDIA' || m.vendor === 'AMD') && m.source, JSON.stringify(m));
    for (const n of [m.id, ...m.names, ...m.aliases]) {
      assert.equal(gr.modelFind(n.toUpperCase())?.id, m.id, n);
      const l = gr.modelLookup(n);
      assert.ok([gr.NameKind.id, gr.NameKind.driver, gr.NameKind.alias].includes(l.kind), `${n}: ${l.kindName}`);
      assert.equal(l.model.id, m.id);
    }
    const fam = gr.modelFamily(m.family);
    assert.ok(fam.some((f) => f.id === m.id), `${m.id} in ${m.family}`);
    assert.ok(fam.every((f) => f.family === m.family));
  }
});

test('one entry in full, families, PCI ids', () => {
  const h = gr.modelFind('NVIDIA H100 80GB HBM3');
  assert.equal(h.id, 'h100-sxm5-80gb');
  assert.equal(h.family, 'h100');
  assert.equal(h.vendor, 'NVIDIA');
  assert.equal(h.interface, 2); // SXM
  assert.equal(h.ccMajor, 9); assert.equal(h.ccMinor, 0);
  assert.equal(h.memoryMib, 81920);
  assert.equal(h.pci[0].vendor, 0x10de); assert.equal(h.pci[0].device, 0x2330);
  assert.deepEqual(gr.modelFind('h100 sxm5 80gb'), h);
  assert.ok(h.names.includes('NVIDIA H100 80GB HBM3'));
  assert.equal(gr.modelLookup('H100_SXM5_80GB').kindName, 'id');
  const fam = gr.modelLookup('h100');
  assert.equal(fam.kind, gr.NameKind.family); assert.equal(fam.kindName, 'family'); assert.equal(fam.model, null);
  assert.equal(gr.modelFind('h100'), null); // a family of several names no single model
  assert.equal(gr.modelFamily('a100').length, 4);
  assert.deepEqual(gr.modelFamily('h100').map((m) => m.family), gr.modelFamily('H100').map(() => 'h100'));
  assert.equal(gr.modelFindPci(0x10de, 0x2684)?.id, 'rtx4090-24gb');
  assert.equal(gr.modelFindPci(0x1002, 0x740c), null); // MI250 and MI250X share it: ambiguous
  assert.equal(gr.modelFindPci(0xffff, 0xffff, 0xffff, 0xffff), null);
});

test('unknown and bad names: null, [], or an error naming the fault', () => {
  assert.equal(gr.modelFind('foo'), null);
  assert.deepEqual(gr.modelLookup('foo'), { kind: 0, kindName: 'unknown', model: null });
  assert.deepEqual(gr.modelFamily('foo'), []);
  assert.equal(gr.modelFind(''), null);
  assert.equal(gr.modelFind('h'.repeat(100000)), null);
  assert.equal(gr.modelFind('H100 \u4e2d\u00fc'), null);
  // a NUL would end the C string early ("h100-sxm5-80gb\0x" is not that model)
  assert.throws(() => gr.modelFind('h100-sxm5-80gb\0x'), (e) => e instanceof gr.GpurentError && e.code === 'GPURENT_E_INVALID_ARG');
  assert.throws(() => gr.modelLookup('a\0'), { code: 'GPURENT_E_INVALID_ARG' });
  assert.throws(() => gr.modelFamily('h100\0'), { code: 'GPURENT_E_INVALID_ARG' });
  assert.throws(() => gr.frameworkFind('torch\0'), { code: 'GPURENT_E_INVALID_ARG' });
  assert.throws(() => gr.modelFind(null), TypeError);
  assert.throws(() => gr.modelFind(42), TypeError);
});

test('framework builds: lookups, architectures, unknown builds', () => {
  const f = gr.frameworkFind('torch 2.5+cu124');
  assert.equal(f.id, 'torch-2.5+cu124'); assert.equal(f.framework, 'torch'); assert.equal(f.version, '2.5');
  assert.equal(f.cudaVersion, 12040); assert.equal(f.ptxCc, 0); assert.ok(f.archs.length > 0 && f.archs.includes(86));
  assert.equal(gr.frameworkSupportsCc('torch 2.5+cu124', 8, 9), true); // sm_86 cubins run on 8.9
  assert.equal(gr.frameworkSupportsCc('torch-2.5+cu124', 12, 0), false);
  assert.equal(gr.frameworkSupportsCc('tf 2.17', 12, 0), true); // its PTX does
  const all = gr.frameworks();
  assert.ok(all.length >= 5);
  for (const g of all) {
    assert.equal(gr.frameworkFind(g.id)?.id, g.id);
    for (const a of g.aliases) assert.equal(gr.frameworkFind(a)?.id, g.id, a);
  }
  assert.equal(gr.frameworkFind('torch 0.1'), null);
  assert.throws(() => gr.frameworkSupportsCc('torch 0.1', 8, 0),
    (e) => e instanceof gr.GpurentError && e.code === 'GPURENT_E_NOT_FOUND' && e.status === -9);
});

test("a request's framework: round trip, explain, an unknown build refused", () => {
  const m = new gr.Market();
  const node = (id, model, cc, cuda) => ({ nodeId: id, gpu: { model, ccMajor: Math.floor(cc / 10), ccMinor: cc % 10,
    memoryMib: 81920, fp32Gflops: 50000, cudaVersion: cuda }, gpuCount: 8, gpuFree: 8, cpuMillicores: 32000,
    ramMib: 1 << 20, diskGib: 1000, priceMicroPerGpuHour: 1000000 });
  m.putOffer({ type: 'offer', providerKey: new Uint8Array(32).fill(7), seq: 1, region: 'eu-west', nodes: [
    node('a', 'NVIDIA H100 80GB HBM3', 90, 12040), node('b', 'H100 PCIe', 90, 12020),
    node('c', 'NVIDIA A100-SXM4-80GB', 80, 12040), node('d', 'foo', 80, 12040)] });
  const q = { requestId: 'q', gpuCount: 8, durationS: 3600, models: ['h100'] };
  assert.deepEqual(m.best(q, 8).map((c) => c.model).sort(), ['h100-pcie-80gb', 'h100-sxm5-80gb']);
  let ex = m.explain({ ...q, models: ['bar', 'foo'] });
  assert.equal(ex.modelTableVersion, 1); assert.deepEqual(ex.unknownModels, ['bar', 'foo']);
  assert.match(ex.text, /model 'bar' is not in the model table v1; matched as an exact name/);
  const fq = { ...q, models: ['h100 pcie'], framework: 'torch 2.5+cu124' };
  const bytes = gr.encode({ type: 'request', ...fq });
  assert.equal(gr.decode(bytes).framework, 'torch 2.5+cu124');
  assert.notDeepEqual(bytes, gr.encode({ type: 'request', ...q, models: ['h100 pcie'] })); // key 24 is there
  ex = m.explain(fq);
  assert.equal(ex.framework, 'torch-2.5+cu124'); assert.equal(ex.frameworkCudaBest, 12020);
  assert.equal(ex.frameworkAlt, 'torch-2.5+cu121');
  assert.match(ex.text, /torch-2\.5\+cu124 needs CUDA 12\.4; node has 12\.2; torch-2\.5\+cu121 would run there/);
  assert.throws(() => m.addRequest({ ...fq, framework: 'torch 9.9' }),
    (e) => e.code === 'GPURENT_E_INVALID_ARG' && /not in the framework table v1/.test(e.detail));
  m.free();
});
