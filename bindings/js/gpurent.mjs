// libgpurent for JavaScript: a thin layer over the C library compiled to
// WebAssembly (make wasm). Every rule -- canonical bytes, signatures, trust,
// quorum, tiers, matching -- runs in the C code; this file only moves bytes
// and structs across the boundary and turns statuses into exceptions.
//
//   import * as gr from '@libgpurent/gpurent';
//   await gr.init();
//   const offer = gr.decode(bytes);          // { type: 'offer', providerKey: Uint8Array, ... }
//   gr.encode(offer);                        // the same canonical bytes
//
// Integers: 32-bit fields are numbers; 64-bit fields are numbers when they
// fit exactly (Number.isSafeInteger) and bigints otherwise; writers take both.
import createGpurentModule from './dist/gpurent_wasm.mjs';

let M = null;

/** Load and initialise the WebAssembly module (idempotent). */
export async function init(moduleArg = {}) {
  if (M) return;
  await nodeShims();
  const mod = await createGpurentModule(moduleArg);
  check(mod._gpurent_init(), mod);
  arena = mod._malloc(ARENA_BYTES);
  if (!arena) throw new GpurentError(-2, 'GPURENT_E_NOMEM', 'out of WebAssembly memory');
  M = mod;
  checkLayouts();
}

// emscripten 3.1.6's ES module output still reaches for CommonJS globals
// under Node (require for crypto/fs/path, __dirname); give them to it. In a
// browser nothing here runs.
async function nodeShims() {
  const isNode = typeof process === 'object' && process.versions?.node && typeof window === 'undefined';
  if (!isNode) return;
  const { createRequire } = await import('node:module');
  if (typeof globalThis.require !== 'function') globalThis.require = createRequire(import.meta.url);
  if (typeof globalThis.__dirname !== 'string') globalThis.__dirname = new URL('./dist', import.meta.url).pathname;
}

function need() {
  if (!M) throw new Error('gpurent: call await init() first');
  return M;
}

// ---------------------------------------------------------------- errors

/** A libgpurent status other than OK: `status` (number), `code` (its name,
 *  e.g. "GPURENT_E_BAD_SIGNATURE"), `detail` (the library's detail message). */
export class GpurentError extends Error {
  constructor(status, code, detail) {
    super(`${code}: ${detail}`);
    this.name = 'GpurentError';
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}
/** Bytes that are not a canonical, well-formed record (-100..-199). */
export class WireError extends GpurentError { constructor(...a) { super(...a); this.name = 'WireError'; } }
/** A signature, trust, window, quorum or replay failure (-200..-299). */
export class VerifyError extends GpurentError { constructor(...a) { super(...a); this.name = 'VerifyError'; } }
/** A tier engine refusal (-400..-499). */
export class TierError extends GpurentError { constructor(...a) { super(...a); this.name = 'TierError'; } }
/** A matching refusal (-500..-599): infeasible, unknown offer, capacity. */
export class MatchError extends GpurentError { constructor(...a) { super(...a); this.name = 'MatchError'; } }
/** GPURENT_E_GPU_CONFLICT (-504): a GPU (by UUID) is already held by
 *  another node of the market (docs/match.md, "One GPU, one place"); the
 *  detail names the holder, which Market.gpuOwner() also answers. */
export class GpuConflictError extends MatchError { constructor(...a) { super(...a); this.name = 'GpuConflictError'; } }
const GPU_CONFLICT = -504;

function errorFor(status, m = M) {
  const code = m.UTF8ToString(m._gpurent_status_name(status));
  const detail = m.UTF8ToString(m._gpurent_last_error_message()) || m.UTF8ToString(m._gpurent_strerror(status));
  const cls = status <= -100 && status > -200 ? WireError : status <= -200 && status > -300 ? VerifyError
    : status <= -400 && status > -500 ? TierError : status === GPU_CONFLICT ? GpuConflictError
    : status <= -500 && status > -600 ? MatchError : GpurentError;
  return new cls(status, code, detail);
}
function check(status, m = M) {
  if (status !== 0) throw errorFor(status, m);
}

/** The name of a status code ("GPURENT_E_EXPIRED"). */
export function statusName(status) { const m = need(); return m.UTF8ToString(m._gpurent_status_name(status)); }
/** The library's version string. */
export function version() { const m = need(); return m.UTF8ToString(m._gpurent_version_string()); }

// ---------------------------------------------------------------- memory

// A scope collects what one call allocates so it is freed on every path.
// Its buffers come from one block of WebAssembly memory reserved at init()
// and used as a stack (a scope takes from the top and gives back all it
// took when it ends; scopes nest, as calls do), so a call costs no malloc
// or free; what does not fit goes to malloc and is freed the same way.
const ARENA_BYTES = 64 * 1024;
let arena = 0, arenaTop = 0;
class Scope {
  constructor() { this.mark = arenaTop; this.ptrs = null; }
  /** n bytes, zeroed. */
  alloc(n) {
    const p = this.raw(n);
    M.HEAPU8.fill(0, p, p + Math.max(n, 1));
    return p;
  }
  /** n bytes for the library to write (not zeroed). */
  raw(n) {
    const size = Math.max(n, 1), at = (arenaTop + 7) & ~7;
    if (at + size <= ARENA_BYTES) { arenaTop = at + size; return arena + at; }
    const p = M._malloc(size);
    if (!p) throw new GpurentError(-2, 'GPURENT_E_NOMEM', 'out of WebAssembly memory');
    (this.ptrs ??= []).push(p);
    return p;
  }
  bytes(u8) {
    const b = asBytes(u8);
    const p = this.raw(b.length);
    M.HEAPU8.set(b, p);
    return p;
  }
  cstr(s) {
    const enc = utf8enc.encode(String(s));
    const p = this.raw(enc.length + 1);
    M.HEAPU8.set(enc, p);
    M.HEAPU8[p + enc.length] = 0;
    return p;
  }
  free() {
    if (this.ptrs) { for (const p of this.ptrs) M._free(p); this.ptrs = null; }
    arenaTop = this.mark;
  }
}
function withScope(fn) {
  need();
  const s = new Scope();
  try { return fn(s); } finally { s.free(); }
}
function asBytes(b) {
  if (b instanceof Uint8Array) return b;
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  throw new TypeError('expected a Uint8Array');
}
let view = null;
// A DataView over the current memory (a new one only after memory grew).
const dv = () => (view && view.buffer === M.HEAPU8.buffer ? view : (view = new DataView(M.HEAPU8.buffer)));
const copyOut = (p, n) => M.HEAPU8.slice(p, p + n);

// gpurent_buf {uint8_t *data; size_t len;}: take its bytes and free it.
function takeBuf(bufp) {
  const d = dv();
  const data = d.getUint32(bufp, true), len = d.getUint32(bufp + 4, true);
  const out = copyOut(data, len);
  M._gpurent_buf_free(bufp);
  return out;
}

// ---------------------------------------------------------------- structs
// Each public struct as a list of [jsName, type]; offsets follow the C
// layout rules of wasm32 and are checked against the compiler's sizeof at
// init(). Types: u32, u64, ptr, str:N (char[N], NUL-terminated), bytes:N,
// strs:K:N / keys:K:N (arrays), u32s:K, a struct name, or [struct, K].
const S = {};
// Types are parsed once, here, into { kind, n, m, sub } so that reading and
// writing a struct allocates nothing but the values themselves.
function parseType(t) {
  if (Array.isArray(t)) return { kind: 'structs', sub: t[0], n: t[1] };
  if (t === 'u32' || t === 'ptr') return { kind: 'u32' };
  if (t === 'i32') return { kind: 'i32' };
  if (t === 'u16') return { kind: 'u16' };
  if (t === 'u64') return { kind: 'u64' };
  const p = t.split(':');
  if (p.length === 1) return { kind: 'struct', sub: t };
  return { kind: p[0], n: +p[1], m: +(p[2] ?? 0) };
}
function defStruct(name, fields) {
  let off = 0, align = 1;
  const out = [];
  for (const [js, t] of fields) {
    const ty = parseType(t);
    const [size, al] = sizeOf(ty);
    off = Math.ceil(off / al) * al;
    out.push({ js, ty, off });
    off += size;
    align = Math.max(align, al);
  }
  S[name] = { fields: out, size: Math.ceil(off / align) * align, align };
}
function sizeOf(ty) {
  switch (ty.kind) {
    case 'u32': case 'i32': return [4, 4];
    case 'u16': return [2, 2];
    case 'u64': return [8, 8];
    case 'str': case 'bytes': return [ty.n, 1];
    case 'strs': case 'keys': return [ty.n * ty.m, 1];
    case 'u32s': return [4 * ty.n, 4];
    case 'struct': return [S[ty.sub].size, S[ty.sub].align];
    case 'structs': return [S[ty.sub].size * ty.n, S[ty.sub].align];
    default: throw new Error(`gpurent: unknown field type ${ty.kind}`);
  }
}
const utf8 = new TextDecoder();
const utf8enc = new TextEncoder();
// Short ASCII strings (ids, models, regions) skip the decoder and, as the
// same few recur in every result, come from a small cache: a hit is checked
// byte for byte against memory, so a hash collision only costs a miss.
const codes = [], strCache = new Map();
function readStr(p, n) {
  const h = M.HEAPU8, lim = p + n;
  let e = p, high = 0, hash = 0;
  for (let c; e < lim && (c = h[e]) !== 0; e++) { high |= c; hash = (Math.imul(hash, 31) + c) | 0; }
  const len = e - p;
  if (len === 0) return '';
  if (high > 0x7f || len > 64) return utf8.decode(h.subarray(p, e));
  const hit = strCache.get(hash);
  if (hit !== undefined && hit.length === len) {
    let i = 0;
    while (i < len && hit.charCodeAt(i) === h[p + i]) i++;
    if (i === len) return hit;
  }
  codes.length = len;
  for (let i = 0; i < len; i++) codes[i] = h[p + i];
  const str = String.fromCharCode.apply(null, codes);
  if (strCache.size >= 1024) strCache.clear();
  strCache.set(hash, str);
  return str;
}
function writeStr(p, n, s, what) {
  const str = s == null ? '' : String(s);
  const h = M.HEAPU8;
  if (str.length < n && /^[\x01-\x7f]*$/.test(str)) { // ASCII (ids, models, regions): no encoder
    for (let i = 0; i < str.length; i++) h[p + i] = str.charCodeAt(i);
    h.fill(0, p + str.length, p + n);
    return;
  }
  if (str.includes('\0')) throw new GpurentError(-1, 'GPURENT_E_INVALID_ARG', `${what}: contains a NUL character`);
  const enc = utf8enc.encode(str);
  if (enc.length >= n) throw new GpurentError(-7, 'GPURENT_E_LIMIT', `${what}: ${enc.length} bytes, at most ${n - 1}`);
  M.HEAPU8.fill(0, p, p + n);
  M.HEAPU8.set(enc, p);
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
function readU64(d, p) {
  const hi = d.getUint32(p + 4, true);
  if (hi < 0x200000) return hi * 4294967296 + d.getUint32(p, true); // below 2^53: exact as a number
  const v = d.getBigUint64(p, true);
  return v <= MAX_SAFE ? Number(v) : v;
}
function readStruct(name, p, skip) {
  const d = dv(), o = {};
  for (const f of S[name].fields) if (f.js !== skip) o[f.js] = readField(d, f.ty, p + f.off);
  return o;
}
function readField(d, ty, p) {
  switch (ty.kind) {
    case 'u32': return d.getUint32(p, true);
    case 'i32': return d.getInt32(p, true);
    case 'u16': return d.getUint16(p, true);
    case 'u64': return readU64(d, p);
    case 'str': return readStr(p, ty.n);
    case 'bytes': return copyOut(p, ty.n);
    case 'strs': return Array.from({ length: ty.n }, (_, i) => readStr(p + i * ty.m, ty.m));
    case 'keys': return Array.from({ length: ty.n }, (_, i) => copyOut(p + i * ty.m, ty.m));
    case 'u32s': return Array.from({ length: ty.n }, (_, i) => d.getUint32(p + 4 * i, true));
    case 'struct': return readStruct(ty.sub, p);
    default: return Array.from({ length: ty.n }, (_, i) => readStruct(ty.sub, p + i * S[ty.sub].size));
  }
}
function writeStruct(name, p, o) {
  const d = dv();
  for (const f of S[name].fields) {
    const v = o[f.js];
    if (v === undefined) continue; // keep what the C init put there
    writeField(d, f.ty, p + f.off, v, f.js);
  }
}
function writeField(d, ty, p, v, js) {
  switch (ty.kind) {
    case 'u32': d.setUint32(p, Number(v) >>> 0, true); return;
    case 'i32': d.setInt32(p, Number(v) | 0, true); return;
    case 'u16': d.setUint16(p, Number(v) & 0xffff, true); return;
    case 'u64':
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
        d.setUint32(p, v % 4294967296, true); d.setUint32(p + 4, Math.floor(v / 4294967296), true);
      } else d.setBigUint64(p, BigInt(v), true);
      return;
    case 'str': writeStr(p, ty.n, v, js); return;
    case 'bytes': {
      const b = asBytes(v);
      if (b.length !== ty.n) throw new GpurentError(-1, 'GPURENT_E_INVALID_ARG', `${js}: ${b.length} bytes, expected ${ty.n}`);
      M.HEAPU8.set(b, p); return;
    }
    case 'strs': v.slice(0, ty.n).forEach((s, i) => writeStr(p + i * ty.m, ty.m, s, js)); return;
    case 'keys': v.slice(0, ty.n).forEach((k, i) => M.HEAPU8.set(asBytes(k), p + i * ty.m)); return;
    case 'u32s': v.slice(0, ty.n).forEach((x, i) => d.setUint32(p + 4 * i, x >>> 0, true)); return;
    case 'struct': writeStruct(ty.sub, p, v); return;
    default: v.slice(0, ty.n).forEach((x, i) => writeStruct(ty.sub, p + i * S[ty.sub].size, x));
  }
}

defStruct('gpu', [['model', 'str:64'], ['uuid', 'bytes:16'], ['pciDomain', 'u32'], ['pciBus', 'u32'],
  ['pciDevice', 'u32'], ['ccMajor', 'u32'], ['ccMinor', 'u32'], ['smCount', 'u32'], ['memoryMib', 'u64'],
  ['clockMhz', 'u32'], ['memClockMhz', 'u32'], ['busWidthBits', 'u32'], ['l2Kib', 'u32'], ['eccEnabled', 'u32'],
  ['interface', 'u32'], ['fp32Gflops', 'u64'], ['fp16TensorGflops', 'u64'], ['memBwMbps', 'u64'],
  ['measuredFp32Gflops', 'u64'], ['measuredMemBwMbps', 'u64'], ['cudaVersion', 'u32'],
  ['pciVendorId', 'u32'], ['pciDeviceId', 'u32'], ['pciSubsystemVendorId', 'u32'], ['pciSubsystemDeviceId', 'u32']]);
defStruct('node', [['nodeId', 'str:64'], ['gpu', 'gpu'], ['gpuCount', 'u32'], ['gpuFree', 'u32'], ['shared', 'u32'],
  ['cpuMillicores', 'u32'], ['ramMib', 'u64'], ['diskGib', 'u64'], ['priceMicroPerGpuHour', 'u64'],
  ['reportDigest', 'bytes:32']]);
defStruct('offer', [['providerKey', 'bytes:32'], ['seq', 'u64'], ['region', 'str:32'], ['stakeMicro', 'u64'],
  ['minDurationS', 'u32'], ['maxDurationS', 'u32'], ['nodeCount', 'u32'], ['nodesPtr', 'ptr']]);
defStruct('request', [['requestId', 'str:64'], ['gpuCount', 'u32'], ['gangNodes', 'u32'], ['gangScope', 'u32'],
  ['vramSharePct', 'u32'], ['minVramMib', 'u64'], ['minCc', 'u32'], ['minFp32Gflops', 'u64'], ['interface', 'u32'],
  ['minCudaVersion', 'u32'], ['maxPriceMicroPerGpuHour', 'u64'], ['allowedTiers', 'u32'], ['durationS', 'u32'],
  ['verifiedOnly', 'u32'], ['cpuMillicores', 'u32'], ['ramMib', 'u64'], ['diskGib', 'u64'], ['submittedAt', 'u64'],
  ['modelCount', 'u32'], ['models', 'strs:8:64'], ['regionCount', 'u32'], ['regions', 'strs:8:32'],
  ['excludedRegionCount', 'u32'], ['excludedRegions', 'strs:8:32'], ['providerCount', 'u32'],
  ['providers', 'keys:8:32'], ['excludedProviderCount', 'u32'], ['excludedProviders', 'keys:8:32'],
  ['framework', 'str:64']]);
defStruct('tierCert', [['providerKey', 'bytes:32'], ['era', 'u64'], ['tier', 'u32'], ['incubating', 'u32'],
  ['scorePpm', 'u32'], ['meanPpm', 'u32'], ['confidencePpm', 'u32'], ['uptimePpm', 'u32'], ['erasInTier', 'u32'],
  ['pointsPpm', 'u32'], ['evidenceDigest', 'bytes:32'], ['paramsDigest', 'bytes:32'], ['auditorCount', 'u32'],
  ['auditors', 'keys:16:32']]);
defStruct('revocation', [['key', 'bytes:32'], ['revokedAt', 'u64'], ['reason', 'u32']]);
defStruct('envelope', [['statement', 'u32'], ['issuer', 'bytes:32'], ['issuedAt', 'u64'], ['expiresAt', 'u64'],
  ['nonce', 'bytes:16'], ['subjectLen', 'u32'], ['subject', 'bytes:128'], ['payloadLen', 'u32'],
  ['signatureCount', 'u32']]);
defStruct('breakdown', [['price', 'u64'], ['perfPrice', 'u64'], ['tier', 'u64'], ['score', 'u64'], ['stake', 'u64'],
  ['locality', 'u64'], ['fit', 'u64'], ['total', 'u64'], ['tieHash', 'u64']]);
defStruct('candidate', [['providerKey', 'bytes:32'], ['nodeId', 'str:64'], ['region', 'str:32'], ['model', 'str:64'],
  ['nodeCount', 'u32'], ['providerCount', 'u32'], ['priceMicroPerGpuHour', 'u64'], ['breakdown', 'breakdown']]);
defStruct('miss', [['providerKey', 'bytes:32'], ['nodeId', 'str:64'], ['failedMask', 'u32'], ['failedCount', 'u32'],
  ['total', 'u64']]);
defStruct('relaxation', [['constraint', 'u32'], ['from', 'u64'], ['to', 'u64'], ['changePct', 'u32'],
  ['item', 'str:64'], ['nodesAdded', 'u32'], ['providersAdded', 'u32']]);
const MC_COUNT = 19;
defStruct('explain', [['requestId', 'str:64'], ['nodesTotal', 'u32'], ['providersTotal', 'u32'],
  ['nodesFeasible', 'u32'], ['providersFeasible', 'u32'], ['matched', 'u32'], ['eliminated', `u32s:${MC_COUNT}`],
  ['eliminatedOnly', `u32s:${MC_COUNT}`], ['missCount', 'u32'], ['misses', ['miss', 5]], ['relaxCount', 'u32'],
  ['relax', ['relaxation', 8]], ['candidateCount', 'u32'], ['candidates', ['candidate', 2]],
  ['modelTableVersion', 'u32'], ['unknownModelCount', 'u32'], ['unknownModels', 'strs:8:64'], ['framework', 'str:64'],
  ['frameworkCuda', 'u32'], ['frameworkCudaNodes', 'u32'], ['frameworkCudaBest', 'u32'], ['frameworkCcNodes', 'u32'],
  ['frameworkCcLowest', 'u32'], ['frameworkAlt', 'str:64']]);
defStruct('receipt', [['seed', 'bytes:32'], ['policyDigest', 'bytes:32'], ['offersDigest', 'bytes:32'],
  ['requestsDigest', 'bytes:32'], ['matchedAt', 'u64'], ['totalValue', 'u64'], ['requestCount', 'u32'],
  ['assignmentCount', 'u32'], ['assignmentsPtr', 'ptr'], ['placementCount', 'u32'], ['placementsPtr', 'ptr']]);
defStruct('assignment', [['requestId', 'str:64'], ['value', 'u64'], ['firstPlacement', 'u32'], ['placementCount', 'u32']]);
defStruct('placement', [['providerKey', 'bytes:32'], ['nodeId', 'str:64'], ['gpus', 'u32'], ['sharePct', 'u32'],
  ['gpuIndex', 'u32'], ['priceMicroPerGpuHour', 'u64']]);
defStruct('verifyOptions', [['version', 'u32'], ['statement', 'u32'], ['requiredRole', 'u32'], ['quorum', 'u32'],
  ['checkReplay', 'u32']]);
defStruct('matchOptions', [['version', 'u32'], ['wPrice', 'u32'], ['wPerfPrice', 'u32'], ['wTier', 'u32'],
  ['wScore', 'u32'], ['wStake', 'u32'], ['wLocality', 'u32'], ['wFit', 'u32'], ['priceRefMicro', 'u64'],
  ['perfPriceCap', 'u64'], ['stakeCapMicro', 'u64'], ['agingPerHour', 'u64'], ['strandMinGpus', 'u32'],
  ['threads', 'u32']]);
defStruct('buf', [['data', 'ptr'], ['len', 'u32']]);
// The tier engine: its options (written over the C defaults), and what it
// reports: an era's summary, slash events, a provider's explanation.
const TIER_MAX = 16;
defStruct('tierLevel', [['uptimeMinPpm', 'u32'], ['slashBelowPpm', 'u32'], ['pointsPpm', 'u32'], ['erasUp', 'u32'],
  ['erasDown', 'u32']]);
defStruct('tierOptions', [['version', 'u32'], ['tierCount', 'u32'], ['tiers', ['tierLevel', TIER_MAX]],
  ['incubationTiers', 'u32'], ['minIncubationEras', 'u32'], ['quorumAuditors', 'u32'], ['eraS', 'u64'],
  ['genesisS', 'u64'], ['firstEra', 'u64'], ['windowEras', 'u32'], ['halfLifeEras', 'u32'], ['gpuWeightPpm', 'u32'],
  ['cpuWeightPpm', 'u32'], ['bound', 'u32'], ['zMilli', 'u32'], ['priorPassMilli', 'u32'], ['priorFailMilli', 'u32'],
  ['weightUptimePpm', 'u32'], ['weightAuditPpm', 'u32'], ['weightJobsPpm', 'u32'], ['weightStakePpm', 'u32'],
  ['weightTenurePpm', 'u32'], ['stakeFullMicro', 'u64'], ['tenureFullEras', 'u32'], ['securityDemoteTiers', 'u32'],
  ['maxProviders', 'u32'], ['unverifiedEvidence', 'u32']]);
defStruct('eraSummary', [['era', 'u64'], ['evaluated', 'u32'], ['promoted', 'u32'], ['demoted', 'u32'],
  ['resets', 'u32'], ['slashes', 'u32'], ['graduated', 'u32'], ['tierCounts', `u32s:${TIER_MAX}`]]);
defStruct('slash', [['providerKey', 'bytes:32'], ['era', 'u64'], ['reasons', 'u32'], ['tierBefore', 'u32'],
  ['tierAfter', 'u32'], ['uptimePpm', 'u32']]);
defStruct('tierComponent', [['valuePpm', 'u32'], ['meanPpm', 'u32'], ['weightPpm', 'u32'], ['contributionPpm', 'u32'],
  ['evidenceQ16', 'u64']]);
defStruct('tierExplanation', [['providerKey', 'bytes:32'], ['era', 'u64'], ['tier', 'u32'], ['previousTier', 'u32'],
  ['incubating', 'u32'], ['rule', 'u32'], ['scorePpm', 'u32'], ['meanPpm', 'u32'], ['confidencePpm', 'u32'],
  ['eraUptimePpm', 'u32'], ['eraObserved', 'u32'], ['qualifyingTier', 'u32'], ['slashReasons', 'u32'],
  ['pointsPpm', 'u32'], ['components', ['tierComponent', 5]], ['upStreak', 'u32'], ['downStreak', 'u32'],
  ['erasInTier', 'u32'], ['incubationEras', 'u32'], ['auditors', 'u32'], ['stakeMicro', 'u64'], ['firstEra', 'u64'],
  ['nextTier', 'u32'], ['needUptimePpm', 'u32'], ['needEras', 'u32'], ['needIncubationEras', 'u32'],
  ['needAuditors', 'u32']]);
// GPU reports (a probe's answer, signed by the provider) and audit reports
// (an auditor's checks of one provider). A probed value is { state, error,
// value } (gpurent_pv: state 0 = OK, 1 = unsupported, 2 = driver error,
// 3 = skipped); an active check adds ratioPpm and verdict.
defStruct('pv', [['state', 'u32'], ['error', 'u32'], ['value', 'u64']]);
defStruct('pvText', [['state', 'u32'], ['error', 'u32'], ['value', 'str:256']]);
defStruct('pvUuid', [['state', 'u32'], ['error', 'u32'], ['value', 'bytes:16']]);
defStruct('probeCheck', [['state', 'u32'], ['error', 'u32'], ['value', 'u64'], ['ratioPpm', 'u32'], ['verdict', 'u32']]);
defStruct('probeDevice', [['ordinal', 'u32'], ['name', 'pvText'], ['uuid', 'pvUuid'], ['pciDomain', 'pv'],
  ['pciBus', 'pv'], ['pciDevice', 'pv'], ['ccMajor', 'pv'], ['ccMinor', 'pv'], ['smCount', 'pv'], ['memoryBytes', 'pv'],
  ['clockKhz', 'pv'], ['memClockKhz', 'pv'], ['busWidthBits', 'pv'], ['l2Bytes', 'pv'], ['eccEnabled', 'pv'],
  ['maxThreadsPerSm', 'pv'], ['fp32Gflops', 'pv'], ['fp16TensorGflops', 'pv'], ['bf16TensorGflops', 'pv'],
  ['memBwMbps', 'pv'], ['h2dPeakMbps', 'pv'], ['d2d', 'probeCheck'], ['h2d', 'probeCheck'], ['fma', 'probeCheck'],
  ['pciVendorId', 'u32'], ['pciDeviceId', 'u32'], ['pciSubsystemVendorId', 'u32'], ['pciSubsystemDeviceId', 'u32']]);
const GPU_REPORT_MAX_DEVICES = 64;
defStruct('gpuReport', [['nonce', 'bytes:32'], ['probedAt', 'u64'], ['status', 'i32'], ['driverError', 'u32'],
  ['reason', 'str:256'], ['driverVersion', 'pv'], ['driverPath', 'str:1024'], ['driverDigest', 'bytes:32'],
  ['ldPreloadSet', 'u32'], ['cudaVisibleDevicesSet', 'u32'], ['driverDeviceCount', 'u32'], ['checks', 'u32'],
  ['deviceCount', 'u32'], ['devices', ['probeDevice', GPU_REPORT_MAX_DEVICES]]]);
defStruct('challenge', [['timeS', 'u64'], ['kind', 'u32'], ['passed', 'u32']]);
defStruct('job', [['jobId', 'str:64'], ['endS', 'u64'], ['outcome', 'u32']]);
defStruct('auditReport', [['providerKey', 'bytes:32'], ['auditorKey', 'bytes:32'], ['timeS', 'u64'],
  ['gpuReport', 'u32'], ['integrity', 'u32'], ['security', 'u32'], ['gpuReportDigest', 'bytes:32'],
  ['stakeObserved', 'u32'], ['stakeMicro', 'u64'], ['challengeCount', 'u32'], ['challengesPtr', 'ptr'],
  ['jobCount', 'u32'], ['jobsPtr', 'ptr']]);

// The model and framework tables (gpurent/models.h): static entries whose
// strings are pointers into the library's read-only data, and who holds a
// GPU in a market.
defStruct('pciId', [['vendor', 'u16'], ['device', 'u16'], ['subsysVendor', 'u16'], ['subsysDevice', 'u16']]);
defStruct('model', [['id', 'ptr'], ['family', 'ptr'], ['vendor', 'ptr'], ['interface', 'u32'], ['ccMajor', 'u32'],
  ['ccMinor', 'u32'], ['smCount', 'u32'], ['boostClockMhz', 'u32'], ['busWidthBits', 'u32'], ['memoryMib', 'u64'],
  ['memBwMbps', 'u64'], ['fp32Gflops', 'u64'], ['pciCount', 'u32'], ['pci', ['pciId', 3]], ['nameCount', 'u32'],
  ['names', 'u32s:6'], ['aliasCount', 'u32'], ['aliases', 'u32s:8'], ['source', 'ptr']]);
defStruct('framework', [['id', 'ptr'], ['framework', 'ptr'], ['version', 'ptr'], ['cudaVersion', 'u32'],
  ['archCount', 'u32'], ['archs', 'u32s:12'], ['ptxCc', 'u32'], ['aliasCount', 'u32'], ['aliases', 'u32s:8'],
  ['source', 'ptr']]);
defStruct('gpuOwner', [['providerKey', 'bytes:32'], ['nodeId', 'str:64'], ['how', 'u32']]);

// The hot results (a best() call returns k candidates) have their own
// readers: a generic readStruct builds each object key by key, several
// times slower. Offsets come from the tables above; a test compares the two
// readers on the same memory.
const offsets = (name) => Object.fromEntries(S[name].fields.map((f) => [f.js, f.off]));
const BO = offsets('breakdown'), CO = offsets('candidate');
function readBreakdown(d, p) {
  return { price: readU64(d, p + BO.price), perfPrice: readU64(d, p + BO.perfPrice), tier: readU64(d, p + BO.tier),
    score: readU64(d, p + BO.score), stake: readU64(d, p + BO.stake), locality: readU64(d, p + BO.locality),
    fit: readU64(d, p + BO.fit), total: readU64(d, p + BO.total), tieHash: readU64(d, p + BO.tieHash) };
}
function readCandidate(d, p) {
  return { providerKey: copyOut(p + CO.providerKey, 32), nodeId: readStr(p + CO.nodeId, 64),
    region: readStr(p + CO.region, 32), model: readStr(p + CO.model, 64), nodeCount: d.getUint32(p + CO.nodeCount, true),
    providerCount: d.getUint32(p + CO.providerCount, true),
    priceMicroPerGpuHour: readU64(d, p + CO.priceMicroPerGpuHour), breakdown: readBreakdown(d, p + CO.breakdown) };
}

// The order of gpurent_js_sizeof() in bindings/js/src/glue.c.
const LAYOUT_ORDER = ['gpu', 'node', 'offer', 'request', 'tierCert', 'revocation', 'envelope', 'candidate',
  'explain', 'receipt', 'assignment', 'placement', 'verifyOptions', 'matchOptions', 'buf', 'pv', 'pvText', 'pvUuid',
  'probeCheck', 'probeDevice', 'gpuReport', 'challenge', 'job', 'auditReport', 'tierLevel', 'tierOptions',
  'eraSummary', 'slash', 'tierComponent', 'tierExplanation', 'pciId', 'model', 'framework', 'gpuOwner'];
/** [name, size this file computes, size the C compiler gives] per struct. */
export function structLayouts() {
  const m = need();
  return LAYOUT_ORDER.map((n, i) => [n, S[n].size, m._gpurent_js_sizeof(i)]);
}
function checkLayouts() {
  for (const [n, js, c] of structLayouts())
    if (js !== c) throw new Error(`gpurent: struct ${n} is ${c} bytes in C but ${js} in gpurent.mjs`);
}

// ---------------------------------------------------------------- wire

/** Record type numbers (gpurent_record_type). */
export const RecordType = Object.freeze({ gpu: 1, offer: 2, request: 3, gpu_report: 4, audit_report: 5,
  tier_cert: 6, match_receipt: 7, revocation: 8, envelope: 9 });
const TYPE_NAME = Object.fromEntries(Object.entries(RecordType).map(([k, v]) => [v, k]));

/** Throw a WireError unless `bytes` is one value in the canonical subset. */
export function checkCanonical(bytes) {
  withScope((s) => check(M._gpurent_wire_check_canonical(s.bytes(bytes), bytes.length)));
}
/** The record type name of encoded bytes ("offer"), checking canonicity. */
export function recordType(bytes) {
  return withScope((s) => {
    const tp = s.alloc(4);
    check(M._gpurent_wire_record_type(s.bytes(bytes), bytes.length, tp));
    return TYPE_NAME[dv().getUint32(tp, true)] ?? 'unknown';
  });
}

function decodeSimple(cname, sname, type, bytes) {
  return withScope((s) => {
    const p = s.alloc(S[sname].size);
    check(M[`_gpurent_${cname}_decode`](s.bytes(bytes), bytes.length, p));
    return { type, ...readStruct(sname, p) };
  });
}
function encodeSimple(cname, sname, rec, init) {
  return withScope((s) => {
    const p = s.alloc(S[sname].size);
    if (init) M[`_gpurent_${init}`](p);
    writeStruct(sname, p, rec);
    const b = s.alloc(8);
    check(M[`_gpurent_${cname}_encode`](p, b));
    return takeBuf(b);
  });
}
function trimRequest(r) {
  r.models = r.models.slice(0, r.modelCount); r.regions = r.regions.slice(0, r.regionCount);
  r.excludedRegions = r.excludedRegions.slice(0, r.excludedRegionCount);
  r.providers = r.providers.slice(0, r.providerCount);
  r.excludedProviders = r.excludedProviders.slice(0, r.excludedProviderCount);
  return r;
}
function fillRequest(r) {
  const o = { ...r };
  for (const [list, count] of [['models', 'modelCount'], ['regions', 'regionCount'],
    ['excludedRegions', 'excludedRegionCount'], ['providers', 'providerCount'],
    ['excludedProviders', 'excludedProviderCount']])
    if (o[list] !== undefined && o[count] === undefined) o[count] = o[list].length;
  return o;
}

function offerFromC(p) {
  const o = readStruct('offer', p);
  o.nodes = Array.from({ length: o.nodeCount }, (_, i) => readStruct('node', o.nodesPtr + i * S.node.size));
  delete o.nodesPtr;
  return { type: 'offer', ...o };
}
function offerToC(s, offer) {
  const p = s.alloc(S.offer.size);
  const nodes = offer.nodes ?? [];
  const np = s.alloc(S.node.size * nodes.length);
  nodes.forEach((n, i) => writeStruct('node', np + i * S.node.size, n));
  writeStruct('offer', p, { ...offer, nodeCount: nodes.length, nodesPtr: np });
  return p;
}
function receiptFromC(p) {
  const r = readStruct('receipt', p);
  const pl = Array.from({ length: r.placementCount }, (_, i) => readStruct('placement', r.placementsPtr + i * S.placement.size));
  r.assignments = Array.from({ length: r.assignmentCount }, (_, i) => {
    const a = readStruct('assignment', r.assignmentsPtr + i * S.assignment.size);
    return { requestId: a.requestId, value: a.value, placements: pl.slice(a.firstPlacement, a.firstPlacement + a.placementCount) };
  });
  delete r.assignmentsPtr; delete r.placementsPtr; delete r.placementCount;
  return { type: 'match_receipt', ...r };
}
function receiptToC(s, rec) {
  const as = rec.assignments ?? [];
  const pls = as.flatMap((a) => a.placements);
  const ap = s.alloc(S.assignment.size * as.length), pp = s.alloc(S.placement.size * pls.length);
  let first = 0;
  as.forEach((a, i) => {
    writeStruct('assignment', ap + i * S.assignment.size, { requestId: a.requestId, value: a.value,
      firstPlacement: first, placementCount: a.placements.length });
    first += a.placements.length;
  });
  pls.forEach((x, i) => writeStruct('placement', pp + i * S.placement.size, x));
  const p = s.alloc(S.receipt.size);
  writeStruct('receipt', p, { ...rec, assignmentCount: as.length, assignmentsPtr: ap, placementCount: pls.length, placementsPtr: pp });
  return p;
}

function gpuReportFromC(p) {
  const r = readStruct('gpuReport', p, 'devices');
  const dev = S.gpuReport.fields.find((f) => f.js === 'devices').off;
  r.devices = Array.from({ length: r.deviceCount }, (_, i) => readStruct('probeDevice', p + dev + i * S.probeDevice.size));
  delete r.deviceCount;
  return { type: 'gpu_report', ...r, statusName: statusName(r.status) };
}
function gpuReportToC(s, rec) {
  const p = s.alloc(S.gpuReport.size);
  const devices = rec.devices ?? [];
  if (devices.length > GPU_REPORT_MAX_DEVICES)
    throw new GpurentError(-7, 'GPURENT_E_LIMIT', `devices: ${devices.length}, at most ${GPU_REPORT_MAX_DEVICES}`);
  writeStruct('gpuReport', p, { ...rec, deviceCount: devices.length, devices });
  return p;
}
function auditReportFromC(p) {
  const a = readStruct('auditReport', p);
  a.challenges = Array.from({ length: a.challengeCount }, (_, i) => readStruct('challenge', a.challengesPtr + i * S.challenge.size));
  a.jobs = Array.from({ length: a.jobCount }, (_, i) => readStruct('job', a.jobsPtr + i * S.job.size));
  delete a.challengeCount; delete a.challengesPtr; delete a.jobCount; delete a.jobsPtr;
  return { type: 'audit_report', ...a };
}
function auditReportToC(s, rec) {
  const cs = rec.challenges ?? [], js = rec.jobs ?? [];
  const cp = s.alloc(S.challenge.size * cs.length), jp = s.alloc(S.job.size * js.length);
  cs.forEach((c, i) => writeStruct('challenge', cp + i * S.challenge.size, c));
  js.forEach((j, i) => writeStruct('job', jp + i * S.job.size, j));
  const p = s.alloc(S.auditReport.size);
  writeStruct('auditReport', p, { ...rec, challengeCount: cs.length, challengesPtr: cp, jobCount: js.length, jobsPtr: jp });
  return p;
}

/** Decode a GPU report (its status also by name) into a plain object:
 *  { type: 'gpu_report', nonce, probedAt, status, statusName, ..., devices: [...] }. */
export function decodeGpuReport(bytes) {
  return withScope((s) => {
    const p = s.raw(S.gpuReport.size);
    check(M._gpurent_gpu_report_decode(s.bytes(bytes), bytes.length, p));
    return gpuReportFromC(p);
  });
}
/** Decode an audit report into a plain object:
 *  { type: 'audit_report', providerKey, auditorKey, timeS, ..., challenges: [...], jobs: [...] }. */
export function decodeAuditReport(bytes) {
  return withScope((s) => {
    const p = s.alloc(S.auditReport.size);
    const rc = M._gpurent_audit_report_decode(s.bytes(bytes), bytes.length, p);
    try { check(rc); return auditReportFromC(p); } finally { M._gpurent_audit_report_clear(p); }
  });
}

/** Decode an offer, request, GPU, GPU report, audit report, tier
 *  certificate, revocation or match receipt into a plain object whose `type` names the record. */
export function decode(bytes) {
  const type = recordType(bytes);
  switch (type) {
    case 'gpu': return decodeSimple('gpu', 'gpu', type, bytes);
    case 'request': return trimRequest(decodeSimple('request', 'request', type, bytes));
    case 'tier_cert': { const c = decodeSimple('tier_cert', 'tierCert', type, bytes); c.auditors = c.auditors.slice(0, c.auditorCount); return c; }
    case 'revocation': return decodeSimple('revocation', 'revocation', type, bytes);
    case 'gpu_report': return decodeGpuReport(bytes);
    case 'audit_report': return decodeAuditReport(bytes);
    case 'offer': return withScope((s) => {
      const p = s.alloc(S.offer.size);
      const rc = M._gpurent_offer_decode(s.bytes(bytes), bytes.length, p);
      try { check(rc); return offerFromC(p); } finally { M._gpurent_offer_clear(p); }
    });
    case 'match_receipt': return withScope((s) => {
      const p = s.alloc(S.receipt.size);
      const rc = M._gpurent_match_receipt_decode(s.bytes(bytes), bytes.length, p);
      try { check(rc); return receiptFromC(p); } finally { M._gpurent_match_receipt_clear(p); }
    });
    default: throw new GpurentError(-8, 'GPURENT_E_UNSUPPORTED', `decode: ${type} records are not mapped in JavaScript`);
  }
}

/** Encode a record object (as decode() returns) into its canonical bytes. */
export function encode(rec) {
  switch (rec.type) {
    case 'gpu': return encodeSimple('gpu', 'gpu', rec);
    case 'request': return encodeSimple('request', 'request', fillRequest(rec), 'request_init');
    case 'tier_cert': return encodeSimple('tier_cert', 'tierCert', { ...rec, auditorCount: rec.auditors?.length ?? rec.auditorCount });
    case 'revocation': return encodeSimple('revocation', 'revocation', rec);
    case 'offer': return withScope((s) => {
      const b = s.alloc(8);
      check(M._gpurent_offer_encode(offerToC(s, rec), b));
      return takeBuf(b);
    });
    case 'match_receipt': return withScope((s) => {
      const b = s.alloc(8);
      check(M._gpurent_match_receipt_encode(receiptToC(s, rec), b));
      return takeBuf(b);
    });
    case 'gpu_report': return withScope((s) => {
      const b = s.alloc(8);
      check(M._gpurent_gpu_report_encode(gpuReportToC(s, rec), b));
      return takeBuf(b);
    });
    case 'audit_report': return withScope((s) => {
      const b = s.alloc(8);
      check(M._gpurent_audit_report_encode(auditReportToC(s, rec), b));
      return takeBuf(b);
    });
    default: throw new TypeError(`encode: unknown record type ${rec.type}`);
  }
}

/** The digest of a match receipt (gpurent_match_receipt_digest). */
export function receiptDigest(rec) {
  return withScope((s) => {
    const d = s.alloc(32);
    const p = rec instanceof Uint8Array ? null : receiptToC(s, rec);
    if (p) { check(M._gpurent_match_receipt_digest(p, d)); return copyOut(d, 32); }
    const q = s.alloc(S.receipt.size);
    const rc = M._gpurent_match_receipt_decode(s.bytes(rec), rec.length, q);
    try { check(rc); check(M._gpurent_match_receipt_digest(q, d)); return copyOut(d, 32); } finally { M._gpurent_match_receipt_clear(q); }
  });
}

/** Decode an envelope's header (unverified: use verifyEnvelope to trust it). */
export function decodeEnvelope(bytes) {
  return withScope((s) => {
    const p = s.alloc(S.envelope.size);
    check(M._gpurent_envelope_decode(s.bytes(bytes), bytes.length, p));
    const e = readStruct('envelope', p);
    e.subject = e.subject.slice(0, e.subjectLen);
    return e;
  });
}
/** The statement digest of an envelope (BLAKE2b-256, docs/attest.md). */
export function envelopeDigest(bytes) {
  return withScope((s) => {
    const d = s.alloc(32);
    check(M._gpurent_envelope_digest(s.bytes(bytes), bytes.length, d));
    return copyOut(d, 32);
  });
}

// ---------------------------------------------------------------- attest

/** Role bits (gpurent_role). */
export const Role = Object.freeze({ provider: 1, auditor: 2, matcher: 4, revoker: 8, requester: 16, all: 0x1f });

const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(([fn, p]) => { if (M) M[fn](p); }) : null;
class Handle {
  constructor(ptr, freeFn) {
    this.ptr = ptr; this.freeFn = freeFn;
    registry?.register(this, [freeFn, ptr], this);
  }
  get live() { if (!this.ptr) throw new Error('gpurent: object used after free()'); return this.ptr; }
  /** Release the C object now (also done, later, by the garbage collector). */
  free() { if (this.ptr) { registry?.unregister(this); M[this.freeFn](this.ptr); this.ptr = 0; } }
  [Symbol.dispose ?? Symbol.for('Symbol.dispose')]() { this.free(); }
}
function newHandle(fn, ...args) {
  return withScope((s) => {
    const out = s.alloc(4);
    check(M[fn](out, ...args.map((a) => (typeof a === 'function' ? a(s) : a))));
    return dv().getUint32(out, true);
  });
}

/** A trust store: public keys, their roles and validity, revocations and
 *  the replay memory. */
export class TrustStore extends Handle {
  constructor() { need(); super(newHandle('_gpurent_trust_new', 0), '_gpurent_trust_free'); }
  /** Trust `publicKey` for `roles` (Role bits) from notBefore to notAfter (Unix s; 0 = open). */
  add(publicKey, roles, notBefore = 0, notAfter = 0) {
    withScope((s) => check(M._gpurent_trust_add(this.live, s.bytes(key32(publicKey)), roles >>> 0,
      BigInt(notBefore), BigInt(notAfter))));
  }
  remove(publicKey) { withScope((s) => check(M._gpurent_trust_remove(this.live, s.bytes(key32(publicKey))))); }
  revoke(publicKey) { withScope((s) => check(M._gpurent_trust_revoke(this.live, s.bytes(key32(publicKey))))); }
  isRevoked(publicKey) { return withScope((s) => M._gpurent_trust_is_revoked(this.live, s.bytes(key32(publicKey))) !== 0); }
  /** The roles of a trusted key (throws GPURENT_E_NOT_FOUND otherwise). */
  roles(publicKey) {
    return withScope((s) => { const r = s.alloc(4); check(M._gpurent_trust_roles(this.live, s.bytes(key32(publicKey)), r)); return dv().getUint32(r, true); });
  }
  get size() { return M._gpurent_trust_key_count(this.live); }
  clearReplay() { M._gpurent_trust_replay_clear(this.live); }
  /** Replace this store's replay memory with a copy of `src`'s (its capacity, the
   *  statements it remembers, their eviction order): this store then refuses as
   *  replays exactly what `src` would. Keys, roles and revocations stay as they are. */
  adoptReplay(src) {
    if (!(src instanceof TrustStore)) throw new GpurentError(-1, 'GPURENT_E_INVALID_ARG', 'adoptReplay: src is not a TrustStore');
    check(M._gpurent_trust_adopt_replay(this.live, src.live));
  }
}
function key32(k) {
  const b = asBytes(k);
  if (b.length !== 32) throw new GpurentError(-1, 'GPURENT_E_INVALID_ARG', `key: ${b.length} bytes, expected 32`);
  return b;
}

/**
 * Verify a signed envelope against a trust store at `now` (Unix seconds).
 * Options: skew (s, default 300), statement (record type name or number; 0 =
 * any), role (Role bits; 0 = the statement's default), quorum (default 1),
 * checkReplay (default true). Returns { header, payload, digest, signers }
 * or throws a VerifyError / WireError naming the first failed check.
 */
export function verifyEnvelope(trust, envelope, { now, skew = 300, statement = 0, role = 0, quorum = 1, checkReplay = true } = {}) {
  if (now === undefined) throw new TypeError('verifyEnvelope: `now` (Unix seconds) is required');
  return withScope((s) => {
    const o = s.alloc(S.verifyOptions.size);
    writeStruct('verifyOptions', o, { version: 1, statement: typeof statement === 'string' ? RecordType[statement] : statement,
      requiredRole: role, quorum, checkReplay: checkReplay ? 1 : 2 }); // 2: GPURENT_VERIFY_REPLAY_OFF
    const out = s.alloc(4);
    check(M._gpurent_envelope_verify(trust.live, s.bytes(envelope), envelope.length, BigInt(now), skew >>> 0, o, out));
    const v = dv().getUint32(out, true);
    try {
      const n = s.raw(4), h = s.raw(S.envelope.size), d = s.raw(32), k = s.raw(32);
      // The payload is borrowed from the result and copied once, into JavaScript.
      const at = M._gpurent_verified_payload_data(v, n);
      const payload = copyOut(at, dv().getUint32(n, true));
      check(M._gpurent_verified_header(v, h));
      const header = readStruct('envelope', h);
      header.subject = header.subject.slice(0, header.subjectLen);
      check(M._gpurent_verified_digest(v, d));
      const signers = [];
      for (let i = 0, n = M._gpurent_verified_signer_count(v); i < n; i++) {
        check(M._gpurent_verified_signer(v, i, k));
        signers.push(copyOut(k, 32));
      }
      return { header, payload, digest: copyOut(d, 32), signers };
    } finally { M._gpurent_verified_free(v); }
  });
}

/** An Ed25519 signing key held in the library's memory (for a provider's
 *  browser key). The secret never comes back to JavaScript. */
export class Key extends Handle {
  constructor(ptr) { super(ptr, '_gpurent_key_free'); }
  static generate() { need(); return new Key(newHandle('_gpurent_key_generate')); }
  static fromSeed(seed) {
    need();
    const b = asBytes(seed);
    if (b.length !== 32) throw new GpurentError(-1, 'GPURENT_E_INVALID_ARG', 'seed: expected 32 bytes');
    return new Key(newHandle('_gpurent_key_from_seed', (s) => s.bytes(b)));
  }
  get publicKey() { return withScope((s) => { const p = s.alloc(32); check(M._gpurent_key_public(this.live, p)); return copyOut(p, 32); }); }
  /** Sign `payload` (canonical record bytes) under a header { statement,
   *  issuedAt, expiresAt, nonce?, subject? }; returns the envelope bytes. */
  sign(header, payload) {
    return withScope((s) => {
      const h = s.alloc(S.envelope.size);
      M._gpurent_envelope_init(h);
      const subject = header.subject ? asBytes(header.subject) : new Uint8Array(0);
      writeStruct('envelope', h, { statement: typeof header.statement === 'string' ? RecordType[header.statement] : header.statement,
        issuer: this.publicKey, issuedAt: header.issuedAt, expiresAt: header.expiresAt,
        nonce: header.nonce ?? new Uint8Array(16) });
      check(M._gpurent_envelope_set_subject(h, s.bytes(subject), subject.length));
      const b = s.alloc(8);
      check(M._gpurent_envelope_sign(this.live, h, s.bytes(payload), payload.length, b));
      return takeBuf(b);
    });
  }
  /** Add this key's signature to an envelope someone else signed. */
  cosign(envelope) {
    return withScope((s) => { const b = s.alloc(8); check(M._gpurent_envelope_cosign(this.live, s.bytes(envelope), envelope.length, b)); return takeBuf(b); });
  }
}

// ---------------------------------------------------------------- tier

/** Verify a signed tier certificate (auditor role, `quorum` distinct
 *  auditors) and return the certificate. */
export function verifyTierCertificate(trust, envelope, { now, skew = 300, quorum = 1 } = {}) {
  if (now === undefined) throw new TypeError('verifyTierCertificate: `now` is required');
  return withScope((s) => {
    const p = s.alloc(S.tierCert.size);
    check(M._gpurent_tier_certificate_verify(trust.live, s.bytes(envelope), envelope.length, BigInt(now), skew >>> 0, quorum >>> 0, p));
    const c = { type: 'tier_cert', ...readStruct('tierCert', p) };
    c.auditors = c.auditors.slice(0, c.auditorCount);
    return c;
  });
}

/** Names of the score components, in the order of explain().components. */
export const TIER_COMPONENTS = Object.freeze(['uptime', 'audit', 'jobs', 'stake', 'tenure']);

/**
 * A tier engine (an auditor's): signed audit reports in, eras evaluated,
 * tiers, explanations and certificates out, all computed by the C engine.
 * Options are the C defaults (Spheron's table, docs/tiers.md) with any
 * field of gpurent_tier_options overridden by its camelCase name
 * ({ genesisS, eraS, quorumAuditors, windowEras, ... }).
 */
export class TierEngine extends Handle {
  constructor(options = {}) {
    need();
    let tierCount = 0;
    super(newHandle('_gpurent_tier_engine_new', (s) => {
      const o = s.alloc(S.tierOptions.size);
      check(M._gpurent_tier_options_init(o, 2));
      writeStruct('tierOptions', o, { ...options, version: 2 });
      tierCount = readStruct('tierOptions', o).tierCount;
      return o;
    }), '_gpurent_tier_engine_free');
    /** Tiers in the engine's table (tier 1 is the most trusted). */
    this.tierCount = tierCount;
  }
  /** Verify a signed audit report (auditor role, not replayed) and record
   *  its evidence; throws VerifyError / TierError naming the failed step. */
  recordSigned(trust, envelope, { now, skew = 300 } = {}) {
    if (now === undefined) throw new TypeError('recordSigned: `now` (Unix seconds) is required');
    withScope((s) => check(M._gpurent_tier_record_signed(this.live, trust.live, s.bytes(envelope), envelope.length,
      BigInt(now), skew >>> 0)));
  }
  /** The era the next evaluate() must evaluate. */
  get nextEra() { return Number(M._gpurent_tier_next_era(this.live)); }
  /** The era a Unix second falls in. */
  eraOf(timeS) { return Number(M._gpurent_tier_era_of(this.live, BigInt(timeS))); }
  get providerCount() { return M._gpurent_tier_provider_count(this.live); }
  /** Evaluate the next era; returns its summary { era, evaluated, promoted,
   *  demoted, resets, slashes, graduated, tierCounts (index 0 = tier 1),
   *  slashEvents: [{ providerKey, era, reasons, tierBefore, tierAfter, uptimePpm }] }. */
  evaluate(era = this.nextEra) {
    return withScope((s) => {
      const p = s.alloc(S.eraSummary.size);
      check(M._gpurent_tier_evaluate(this.live, BigInt(era), 0, p));
      const r = readStruct('eraSummary', p);
      r.tierCounts = r.tierCounts.slice(0, this.tierCount);
      const x = s.alloc(S.slash.size);
      r.slashEvents = Array.from({ length: M._gpurent_tier_slash_count(this.live) }, (_, i) => {
        check(M._gpurent_tier_slash_get(this.live, i, x));
        return readStruct('slash', x);
      });
      return r;
    });
  }
  /** Why a provider has its tier and what it needs to move up, with the
   *  rule's name, named components and `text` (the library's rendering);
   *  throws TierError GPURENT_E_UNKNOWN_PROVIDER for a key it has no evidence for. */
  explain(providerKey) {
    return withScope((s) => {
      const p = s.alloc(S.tierExplanation.size);
      check(M._gpurent_tier_explain(this.live, s.bytes(key32(providerKey)), p));
      const e = readStruct('tierExplanation', p);
      e.ruleName = M.UTF8ToString(M._gpurent_tier_rule_name(e.rule));
      e.components = e.components.map((c, i) => ({ name: TIER_COMPONENTS[i], ...c }));
      const b = s.alloc(8);
      check(M._gpurent_tier_explain_text(p, b));
      e.text = utf8.decode(takeBuf(b));
      return e;
    });
  }
  /** The provider's tier certificate for the last evaluated era (a record
   *  to encode() and sign; GPURENT_E_QUORUM_NOT_MET before k auditors). */
  certificate(providerKey) {
    return withScope((s) => {
      const p = s.alloc(S.tierCert.size);
      check(M._gpurent_tier_certificate(this.live, s.bytes(key32(providerKey)), p));
      const c = { type: 'tier_cert', ...readStruct('tierCert', p) };
      c.auditors = c.auditors.slice(0, c.auditorCount);
      return c;
    });
  }
}

// ---------------------------------------------------------------- match

/** Names of the match constraints (gpurent_match_constraint), by number. */
export const CONSTRAINTS = Object.freeze(['kind', 'model', 'vram', 'cc', 'fp32', 'interface', 'cuda', 'price', 'tier',
  'verified', 'region', 'provider', 'duration', 'cpu', 'ram', 'disk', 'gpus', 'busy', 'gang']);
export const Preset = Object.freeze({ balanced: 0, cheapest: 1, performance: 2, trusted: 3 });

function requestToC(s, req) {
  const p = s.raw(S.request.size);
  M._gpurent_request_init(p); // zeroes it
  writeStruct('request', p, fillRequest(req));
  return p;
}
function withBytesOrObject(s, rec, decodeFn, size, toC) {
  if (rec instanceof Uint8Array) {
    const p = s.alloc(size);
    check(M[decodeFn](s.bytes(rec), rec.length, p));
    return p;
  }
  return toC(s, rec);
}

// A request for the market calls: a PreparedRequest's own struct, else
// bytes decoded or an object converted into the call's scope.
function requestPtr(s, req) {
  if (req instanceof PreparedRequest) return req.live;
  return withBytesOrObject(s, req, '_gpurent_request_decode', S.request.size, requestToC);
}

/**
 * A request converted once into the library's memory, for callers that ask
 * the same question many times (best() on every market update): the market
 * calls take it as they take a request object or its bytes, without
 * converting it again. It is a snapshot: changing the object it was made
 * from changes nothing here. Free it with free() (or `using`).
 */
export class PreparedRequest extends Handle {
  /** From a request object (as decode() returns) or its canonical bytes;
   *  throws as encode()/decode() would on a bad field. */
  constructor(req) {
    const m = need();
    const p = m._malloc(S.request.size);
    if (!p) throw new GpurentError(-2, 'GPURENT_E_NOMEM', 'out of WebAssembly memory');
    try {
      if (req instanceof Uint8Array) {
        withScope((s) => check(m._gpurent_request_decode(s.bytes(req), req.length, p)));
      } else {
        m._gpurent_request_init(p);
        writeStruct('request', p, fillRequest(req));
        check(m._gpurent_request_validate(p));
      }
    } catch (e) { m._free(p); throw e; }
    super(p, '_free');
  }
  /** The request as a plain object. */
  toObject() { return trimRequest({ type: 'request', ...readStruct('request', this.live) }); }
  /** Its canonical bytes. */
  encode() { return withScope((s) => { const b = s.alloc(8); check(M._gpurent_request_encode(this.live, b)); return takeBuf(b); }); }
  get requestId() { return readStr(this.live + S.request.fields[0].off, 64); }
}

/** A market of offers and requests with a matching policy and a seed. */
export class Market extends Handle {
  /** options: { preset: 'balanced'|..., seed: Uint8Array(32) } */
  constructor({ preset = 'balanced', seed = null } = {}) {
    need();
    super(newHandle('_gpurent_market_new', (s) => {
      const o = s.alloc(S.matchOptions.size);
      check(M._gpurent_match_options_init(o, 1));
      check(M._gpurent_match_options_preset(o, Preset[preset] ?? preset));
      return o;
    }, (s) => (seed ? s.bytes(key32(seed)) : 0)), '_gpurent_market_free');
  }
  /** Add or replace an offer (an object or its canonical bytes). */
  putOffer(offer) {
    withScope((s) => {
      if (offer instanceof Uint8Array) {
        const p = s.alloc(S.offer.size);
        const rc = M._gpurent_offer_decode(s.bytes(offer), offer.length, p);
        try { check(rc); check(M._gpurent_market_put_offer(this.live, p)); } finally { M._gpurent_offer_clear(p); }
      } else check(M._gpurent_market_put_offer(this.live, offerToC(s, offer)));
    });
  }
  removeOffer(providerKey) { withScope((s) => check(M._gpurent_market_remove_offer(this.live, s.bytes(key32(providerKey))))); }
  /** Set a provider's tier and score, as its verified tier certificate says. */
  setTrust(providerKey, tier, scorePpm) {
    withScope((s) => check(M._gpurent_market_set_trust(this.live, s.bytes(key32(providerKey)), tier >>> 0, scorePpm >>> 0)));
  }
  setVerified(providerKey, nodeId, verified = true) {
    withScope((s) => check(M._gpurent_market_set_verified(this.live, s.bytes(key32(providerKey)), s.cstr(nodeId), verified ? 1 : 0)));
  }
  /** Queue a request (object, bytes or PreparedRequest) for the next match(). */
  addRequest(req) { withScope((s) => check(M._gpurent_market_add_request(this.live, requestPtr(s, req)))); }
  /** End the lease a receipt created for `requestId` (its GPUs return). */
  endLease(requestId) { withScope((s) => check(M._gpurent_market_end_lease(this.live, s.cstr(requestId)))); }
  removeRequest(requestId) { withScope((s) => check(M._gpurent_market_remove_request(this.live, s.cstr(requestId)))); }
  /** The k best placements for one request (object, bytes or
   *  PreparedRequest), best first (may be empty). */
  best(req, k = 5) {
    return withScope((s) => {
      const rp = requestPtr(s, req);
      k >>>= 0;
      const out = s.raw(S.candidate.size * k), n = s.raw(4);
      const rc = M._gpurent_market_best(this.live, rp, k, out, n);
      if (rc === -500) return []; // GPURENT_E_INFEASIBLE: nothing fits
      check(rc);
      const d = dv(), count = d.getUint32(n, true), list = new Array(count);
      for (let i = 0; i < count; i++) list[i] = readCandidate(d, out + i * S.candidate.size);
      return list;
    });
  }
  /** Why a request does (not) match: counts per constraint, the closest
   *  misses, the relaxations that would help, and `text` (the library's
   *  own rendering). */
  explain(req) {
    return withScope((s) => {
      const rp = requestPtr(s, req);
      const p = s.alloc(S.explain.size);
      check(M._gpurent_market_explain(this.live, rp, p));
      const e = readStruct('explain', p);
      e.misses = e.misses.slice(0, e.missCount).map((x) => ({ ...x,
        failed: CONSTRAINTS.filter((_, c) => x.failedMask & (1 << c)) }));
      e.relax = e.relax.slice(0, e.relaxCount).map((r) => ({ ...r, constraintName: CONSTRAINTS[r.constraint] }));
      e.candidates = e.candidates.slice(0, e.candidateCount);
      e.unknownModels = e.unknownModels.slice(0, e.unknownModelCount);
      const b = s.alloc(8);
      check(M._gpurent_match_explain_text(p, b));
      e.text = utf8.decode(takeBuf(b));
      return e;
    });
  }
  /** Run a batch match at `now`; returns the receipt object and its bytes. */
  match(now) {
    return withScope((s) => {
      const p = s.alloc(S.receipt.size);
      const rc = M._gpurent_market_match(this.live, BigInt(now), 0, p);
      try {
        check(rc);
        const b = s.alloc(8);
        check(M._gpurent_match_receipt_encode(p, b));
        return { receipt: receiptFromC(p), bytes: takeBuf(b) };
      } finally { M._gpurent_match_receipt_clear(p); }
    });
  }
  /** The node holding the GPU `uuid` (16 bytes): { providerKey, nodeId,
   *  how (GpuHeld bits), held: ['offer'] / ['report'] / both }, or null when
   *  no node does. Throws GPURENT_E_INVALID_ARG for the all-zero UUID or
   *  one that is not 16 bytes. */
  gpuOwner(uuid) {
    return withScope((s) => {
      const u = asBytes(uuid);
      if (u.length !== 16) throw new GpurentError(-1, 'GPURENT_E_INVALID_ARG', `uuid: ${u.length} bytes, expected 16`);
      const p = s.alloc(S.gpuOwner.size);
      const rc = M._gpurent_market_gpu_owner(this.live, s.bytes(u), p);
      if (rc === -9) return null; // GPURENT_E_NOT_FOUND: nobody holds it
      check(rc);
      const o = readStruct('gpuOwner', p);
      o.held = Object.keys(GpuHeld).filter((k) => o.how & GpuHeld[k]);
      return o;
    });
  }
  /** Mark a node verified by its GPU report (an object as decodeGpuReport()
   *  returns, or the report's canonical bytes; verify its signature first)
   *  and bind the node's GPUs to the report's UUIDs. Throws GPURENT_E_INVALID_ARG
   *  when it is not the report the node names (report_digest), and
   *  GpuConflictError when a UUID of it is held elsewhere or the node offers
   *  a GPU it does not list. */
  verifyReport(providerKey, nodeId, report) {
    withScope((s) => {
      const key = s.bytes(key32(providerKey)), id = s.cstr(cstrArg(nodeId, 'nodeId'));
      let p;
      if (report instanceof Uint8Array) {
        p = s.alloc(S.gpuReport.size);
        check(M._gpurent_gpu_report_decode(s.bytes(report), report.length, p));
      } else p = gpuReportToC(s, report);
      check(M._gpurent_market_verify_report(this.live, key, id, p));
    });
  }
  /** Apply a receipt (object or bytes) another matcher signed. */
  apply(receipt) {
    withScope((s) => {
      if (receipt instanceof Uint8Array) {
        const p = s.alloc(S.receipt.size);
        const rc = M._gpurent_match_receipt_decode(s.bytes(receipt), receipt.length, p);
        try { check(rc); check(M._gpurent_market_apply(this.live, p)); } finally { M._gpurent_match_receipt_clear(p); }
      } else check(M._gpurent_market_apply(this.live, receiptToC(s, receipt)));
    });
  }
}

/** How a node holds a GPU (bits of gpuOwner().how). */
export const GpuHeld = Object.freeze({ offer: 1, report: 2 });

// ---------------------------------------------------------------- models

/** How a name resolved (gpurent_name_kind). */
export const NameKind = Object.freeze({ unknown: 0, id: 1, driver: 2, alias: 3, family: 4 });

// A name for the table calls: a string without NUL (the C string would end there).
function cstrArg(name, what) {
  if (typeof name !== 'string') throw new TypeError(`${what}: expected a string`);
  if (name.includes('\0')) throw new GpurentError(-1, 'GPURENT_E_INVALID_ARG', `${what}: contains a NUL character`);
  return name;
}
const cstrAt = (p) => (p ? M.UTF8ToString(p) : '');
function modelFromC(p) {
  if (!p) return null;
  const m = readStruct('model', p);
  return { id: cstrAt(m.id), family: cstrAt(m.family), vendor: cstrAt(m.vendor), interface: m.interface,
    ccMajor: m.ccMajor, ccMinor: m.ccMinor, smCount: m.smCount, boostClockMhz: m.boostClockMhz,
    busWidthBits: m.busWidthBits, memoryMib: m.memoryMib, memBwMbps: m.memBwMbps, fp32Gflops: m.fp32Gflops,
    pci: m.pci.slice(0, m.pciCount), names: m.names.slice(0, m.nameCount).map(cstrAt),
    aliases: m.aliases.slice(0, m.aliasCount).map(cstrAt), source: cstrAt(m.source) };
}
function frameworkFromC(p) {
  if (!p) return null;
  const f = readStruct('framework', p);
  return { id: cstrAt(f.id), framework: cstrAt(f.framework), version: cstrAt(f.version), cudaVersion: f.cudaVersion,
    archs: f.archs.slice(0, f.archCount), ptxCc: f.ptxCc, aliases: f.aliases.slice(0, f.aliasCount).map(cstrAt),
    source: cstrAt(f.source) };
}
function tableDigest(fn) {
  return withScope((s) => { const d = s.alloc(32); check(M[fn](d)); return copyOut(d, 32); });
}

/** The model table's version (GPURENT_MODEL_TABLE_VERSION of the library). */
export function modelTableVersion() { return need()._gpurent_model_table_version(); }
/** BLAKE2b-256 of the model table's canonical encoding (32 bytes, as every digest of the package). */
export function modelTableDigest() { return tableDigest('_gpurent_model_table_digest'); }
/** Every model entry, in table order, as plain objects. */
export function models() {
  const m = need();
  return Array.from({ length: m._gpurent_model_count() }, (_, i) => modelFromC(m._gpurent_model_at(i)));
}
/** The model `name` names (canonical id, driver name, alias, or a family of
 *  one), or null. Names compare case- and punctuation-blind. */
export function modelFind(name) {
  return withScope((s) => modelFromC(M._gpurent_model_find(s.cstr(cstrArg(name, 'name')))));
}
/** How `name` resolves: { kind (NameKind number), kindName ("id", "driver
 *  name", "alias", "family", "unknown"), model (the entry, or null for a
 *  family or an unknown name) }. */
export function modelLookup(name) {
  return withScope((s) => {
    const out = s.alloc(4);
    const kind = M._gpurent_model_lookup(s.cstr(cstrArg(name, 'name')), out);
    return { kind, kindName: M.UTF8ToString(M._gpurent_name_kind_name(kind)), model: modelFromC(dv().getUint32(out, true)) };
  });
}
/** The members of the family `name`, in table order ([] when it names no family). */
export function modelFamily(name) {
  return withScope((s) => {
    const n = s.cstr(cstrArg(name, 'name'));
    return Array.from({ length: M._gpurent_model_family_size(n) }, (_, i) => modelFromC(M._gpurent_model_family_member(n, i)));
  });
}
/** The entry with this PCI id, or null when none or several match (subsystem 0 = not known). */
export function modelFindPci(vendor, device, subsysVendor = 0, subsysDevice = 0) {
  const m = need();
  return modelFromC(m._gpurent_model_find_pci(vendor >>> 0, device >>> 0, subsysVendor >>> 0, subsysDevice >>> 0));
}

/** The framework table's version. */
export function frameworkTableVersion() { return need()._gpurent_framework_table_version(); }
/** BLAKE2b-256 of the framework table's canonical encoding, lower-case hex. */
export function frameworkTableDigest() { return tableDigest('_gpurent_framework_table_digest'); }
/** Every framework build, in table order. */
export function frameworks() {
  const m = need();
  return Array.from({ length: m._gpurent_framework_count() }, (_, i) => frameworkFromC(m._gpurent_framework_at(i)));
}
/** The build `name` names ("torch 2.5+cu124", "tf 2.17"), or null. */
export function frameworkFind(name) {
  return withScope((s) => frameworkFromC(M._gpurent_framework_find(s.cstr(cstrArg(name, 'name')))));
}
/** Whether the build `name` ships code that runs on compute capability
 *  ccMajor.ccMinor; throws GPURENT_E_NOT_FOUND for a name not in the table. */
export function frameworkSupportsCc(name, ccMajor, ccMinor) {
  return withScope((s) => {
    const f = M._gpurent_framework_find(s.cstr(cstrArg(name, 'name')));
    if (!f) throw new GpurentError(-9, 'GPURENT_E_NOT_FOUND', `framework '${name}' is not in the framework table`);
    return M._gpurent_framework_supports_cc(f, ccMajor >>> 0, ccMinor >>> 0) === 1;
  });
}

// ---------------------------------------------------------------- helpers

/** Lower-case hex of bytes, and back. */
export const toHex = (b) => Array.from(asBytes(b), (x) => x.toString(16).padStart(2, '0')).join('');
export function fromHex(h) {
  const s = String(h).trim();
  if (s.length % 2 || /[^0-9a-fA-F]/.test(s)) throw new TypeError('fromHex: not an even-length hex string');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}
