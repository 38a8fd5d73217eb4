// Type declarations for gpurent.mjs (libgpurent compiled to WebAssembly).
// 64-bit fields are `number` when they fit exactly, `bigint` otherwise.
export type U64 = number | bigint;
export type Bytes = Uint8Array;

/** Load and initialise the WebAssembly module; call once before anything else. */
export function init(moduleArg?: object): Promise<void>;
export function version(): string;
export function statusName(status: number): string;
/** [struct, size computed in JavaScript, size from the C compiler]. */
export function structLayouts(): Array<[string, number, number]>;

export class GpurentError extends Error {
  /** The gpurent_status (negative). */
  readonly status: number;
  /** Its name, e.g. "GPURENT_E_BAD_SIGNATURE". */
  readonly code: string;
  /** The library's detail message. */
  readonly detail: string;
}
export class WireError extends GpurentError {}
export class VerifyError extends GpurentError {}
export class TierError extends GpurentError {}
export class MatchError extends GpurentError {}
/** GPURENT_E_GPU_CONFLICT (-504): a GPU (by UUID) is held by another node (docs/match.md). */
export class GpuConflictError extends MatchError {}

export const RecordType: Readonly<{ gpu: 1; offer: 2; request: 3; gpu_report: 4; audit_report: 5; tier_cert: 6;
  match_receipt: 7; revocation: 8; envelope: 9 }>;
export type RecordTypeName = keyof typeof RecordType;
export const Role: Readonly<{ provider: 1; auditor: 2; matcher: 4; revoker: 8; requester: 16; all: 31 }>;
export const Preset: Readonly<{ balanced: 0; cheapest: 1; performance: 2; trusted: 3 }>;
export const CONSTRAINTS: readonly string[];

export interface Gpu {
  model: string; uuid?: Bytes; pciDomain?: number; pciBus?: number; pciDevice?: number; ccMajor?: number;
  ccMinor?: number; smCount?: number; memoryMib?: U64; clockMhz?: number; memClockMhz?: number;
  busWidthBits?: number; l2Kib?: number; eccEnabled?: number; interface?: number; fp32Gflops?: U64;
  fp16TensorGflops?: U64; memBwMbps?: U64; measuredFp32Gflops?: U64; measuredMemBwMbps?: U64; cudaVersion?: number;
  /** The product's PCI ids (0 = not known; left out of the bytes when 0). */
  pciVendorId?: number; pciDeviceId?: number; pciSubsystemVendorId?: number; pciSubsystemDeviceId?: number;
}
export interface GpuRecord extends Gpu { type: 'gpu' }
export interface OfferNode {
  nodeId: string; gpu: Gpu; gpuCount: number; gpuFree: number; shared?: number; cpuMillicores?: number;
  ramMib?: U64; diskGib?: U64; priceMicroPerGpuHour: U64; reportDigest?: Bytes;
}
export interface Offer {
  type: 'offer'; providerKey: Bytes; seq: U64; region: string; stakeMicro?: U64; minDurationS?: number;
  maxDurationS?: number; nodes: OfferNode[];
}
export interface Request {
  type?: 'request'; requestId: string; gpuCount: number; gangNodes?: number; gangScope?: number;
  vramSharePct?: number; minVramMib?: U64; minCc?: number; minFp32Gflops?: U64; interface?: number;
  minCudaVersion?: number; maxPriceMicroPerGpuHour?: U64; allowedTiers?: number; durationS?: number;
  verifiedOnly?: number; cpuMillicores?: number; ramMib?: U64; diskGib?: U64; submittedAt?: U64;
  models?: string[]; regions?: string[]; excludedRegions?: string[]; providers?: Bytes[]; excludedProviders?: Bytes[];
  framework?: string;
}
export interface TierCert {
  type: 'tier_cert'; providerKey: Bytes; era: U64; tier: number; incubating: number; scorePpm: number;
  meanPpm: number; confidencePpm: number; uptimePpm: number; erasInTier: number; pointsPpm: number;
  evidenceDigest: Bytes; paramsDigest: Bytes; auditors: Bytes[];
}
export interface Revocation { type: 'revocation'; key: Bytes; revokedAt: U64; reason: number }
export interface Placement {
  providerKey: Bytes; nodeId: string; gpus: number; sharePct: number; gpuIndex: number; priceMicroPerGpuHour: U64;
}
export interface Assignment { requestId: string; value: U64; placements: Placement[] }
export interface MatchReceipt {
  type: 'match_receipt'; seed: Bytes; policyDigest: Bytes; offersDigest: Bytes; requestsDigest: Bytes;
  matchedAt: U64; totalValue: U64; requestCount: number; assignmentCount: number; assignments: Assignment[];
}
/** A probed value (gpurent_pv): state 0 = OK, 1 = unsupported, 2 = driver error (CUresult in
 *  `error`), 3 = skipped; `value` is 0 unless OK. */
export interface Probed<T = U64> { state: number; error: number; value: T }
/** An active check: value in MB/s (copies) or GFLOPS (FMA), ratio to the derived peak, verdict
 *  (0 none, 1 plausible, 2 low, 3 implausible, 4 wrong output). */
export interface ProbeCheck extends Probed { ratioPpm: number; verdict: number }
export interface ProbeDevice {
  ordinal: number; name: Probed<string>; uuid: Probed<Bytes>; pciDomain: Probed; pciBus: Probed; pciDevice: Probed;
  ccMajor: Probed; ccMinor: Probed; smCount: Probed; memoryBytes: Probed; clockKhz: Probed; memClockKhz: Probed;
  busWidthBits: Probed; l2Bytes: Probed; eccEnabled: Probed; maxThreadsPerSm: Probed; fp32Gflops: Probed;
  fp16TensorGflops: Probed; bf16TensorGflops: Probed; memBwMbps: Probed; h2dPeakMbps: Probed;
  d2d: ProbeCheck; h2d: ProbeCheck; fma: ProbeCheck;
  /** The product's PCI ids read from sysfs (0 = not known; left out of the bytes when 0). */
  pciVendorId?: number; pciDeviceId?: number; pciSubsystemVendorId?: number; pciSubsystemDeviceId?: number;
}
/** A GPU report (what a provider's probe found; gpurent_gpu_report). Writers may leave out
 *  any field (zero) and statusName (it is read back from status). */
export interface GpuReport {
  type: 'gpu_report'; nonce: Bytes; probedAt: U64; status: number; statusName: string; driverError: number;
  reason: string; driverVersion: Probed; driverPath: string; driverDigest: Bytes; ldPreloadSet: number;
  cudaVisibleDevicesSet: number; driverDeviceCount: number; checks: number; devices: ProbeDevice[];
}
export interface ChallengeResult { timeS: U64; kind: number; passed: number }
export interface JobResult { jobId: string; endS: U64; outcome: number }
/** An auditor's report on one provider (gpurent_audit_report); the encoder sorts the lists. */
export interface AuditReport {
  type: 'audit_report'; providerKey: Bytes; auditorKey: Bytes; timeS: U64; gpuReport: number; integrity: number;
  security: number; gpuReportDigest: Bytes; stakeObserved: number; stakeMicro: U64;
  challenges: ChallengeResult[]; jobs: JobResult[];
}
export type WireRecord = GpuRecord | Offer | (Request & { type: 'request' }) | TierCert | Revocation | MatchReceipt
  | GpuReport | AuditReport;
/** Decode a GPU report (throws WireError for anything else). */
export function decodeGpuReport(bytes: Bytes): GpuReport;
/** Decode an audit report (throws WireError for anything else). */
export function decodeAuditReport(bytes: Bytes): AuditReport;

/** Throw a WireError unless `bytes` is one canonical value. */
export function checkCanonical(bytes: Bytes): void;
/** The record type of encoded bytes ("offer"). */
export function recordType(bytes: Bytes): RecordTypeName | 'unknown';
/** Decode a gpu, offer, request, gpu_report, audit_report, tier_cert, revocation or match_receipt. */
export function decode(bytes: Bytes): WireRecord;
/** The canonical bytes of a record (as decode() returns it). */
export function encode(record: WireRecord): Bytes;
export function receiptDigest(receipt: MatchReceipt | Bytes): Bytes;

export interface EnvelopeHeader {
  statement: number; issuer: Bytes; issuedAt: U64; expiresAt: U64; nonce: Bytes; subjectLen: number;
  subject: Bytes; payloadLen: number; signatureCount: number;
}
/** An envelope's header, unverified. */
export function decodeEnvelope(bytes: Bytes): EnvelopeHeader;
export function envelopeDigest(bytes: Bytes): Bytes;

interface Freeable {
  /** Release the C object now (the garbage collector would, later). */
  free(): void;
}
export class TrustStore implements Freeable {
  constructor();
  add(publicKey: Bytes, roles: number, notBefore?: U64, notAfter?: U64): void;
  remove(publicKey: Bytes): void;
  revoke(publicKey: Bytes): void;
  isRevoked(publicKey: Bytes): boolean;
  roles(publicKey: Bytes): number;
  readonly size: number;
  clearReplay(): void;
  /** Copy src's replay memory over this store's (keys, roles, revocations stay). */
  adoptReplay(src: TrustStore): void;
  free(): void;
}
export interface VerifyOptions {
  now: U64; skew?: number; statement?: RecordTypeName | number; role?: number; quorum?: number; checkReplay?: boolean;
}
export interface Verified { header: EnvelopeHeader; payload: Bytes; digest: Bytes; signers: Bytes[] }
/** Verify a signed envelope; throws VerifyError/WireError with the first failed check. */
export function verifyEnvelope(trust: TrustStore, envelope: Bytes, options: VerifyOptions): Verified;

export class Key implements Freeable {
  static generate(): Key;
  static fromSeed(seed: Bytes): Key;
  readonly publicKey: Bytes;
  sign(header: { statement: RecordTypeName | number; issuedAt: U64; expiresAt: U64; nonce?: Bytes; subject?: Bytes },
       payload: Bytes): Bytes;
  cosign(envelope: Bytes): Bytes;
  free(): void;
}

export function verifyTierCertificate(trust: TrustStore, envelope: Bytes,
                                      options: { now: U64; skew?: number; quorum?: number }): TierCert;

/** Names of the score components, in the order of TierExplanation.components. */
export const TIER_COMPONENTS: readonly ['uptime', 'audit', 'jobs', 'stake', 'tenure'];
export interface TierLevel { uptimeMinPpm: number; slashBelowPpm: number; pointsPpm: number; erasUp: number; erasDown: number }
/** Overrides of the C defaults (gpurent_tier_options, camelCase); tiers[0] is tier 1. */
export interface TierOptions {
  tierCount?: number; tiers?: TierLevel[]; incubationTiers?: number; minIncubationEras?: number; quorumAuditors?: number;
  eraS?: U64; genesisS?: U64; firstEra?: U64; windowEras?: number; halfLifeEras?: number; gpuWeightPpm?: number;
  cpuWeightPpm?: number; bound?: number; zMilli?: number; priorPassMilli?: number; priorFailMilli?: number;
  weightUptimePpm?: number; weightAuditPpm?: number; weightJobsPpm?: number; weightStakePpm?: number;
  weightTenurePpm?: number; stakeFullMicro?: U64; tenureFullEras?: number; securityDemoteTiers?: number;
  maxProviders?: number;
}
export interface TierSlash { providerKey: Bytes; era: U64; reasons: number; tierBefore: number; tierAfter: number; uptimePpm: number }
export interface EraSummary {
  era: U64; evaluated: number; promoted: number; demoted: number; resets: number; slashes: number; graduated: number;
  /** Providers per tier after the era, [0] = tier 1, tierCount entries. */
  tierCounts: number[]; slashEvents: TierSlash[];
}
export interface TierComponent {
  name: (typeof TIER_COMPONENTS)[number]; valuePpm: number; meanPpm: number; weightPpm: number; contributionPpm: number;
  evidenceQ16: U64;
}
export interface TierExplanation {
  providerKey: Bytes; era: U64; tier: number; previousTier: number; incubating: number; rule: number; ruleName: string;
  scorePpm: number; meanPpm: number; confidencePpm: number; eraUptimePpm: number; eraObserved: number;
  qualifyingTier: number; slashReasons: number; pointsPpm: number; components: TierComponent[]; upStreak: number;
  downStreak: number; erasInTier: number; incubationEras: number; auditors: number; stakeMicro: U64; firstEra: U64;
  nextTier: number; needUptimePpm: number; needEras: number; needIncubationEras: number; needAuditors: number;
  /** The library's own rendering. */
  text: string;
}
/** An auditor's tier engine: signed audit reports in; summaries, explanations, certificates out. */
export class TierEngine implements Freeable {
  constructor(options?: TierOptions);
  readonly tierCount: number;
  /** The era evaluate() evaluates next. */
  readonly nextEra: number;
  readonly providerCount: number;
  eraOf(timeS: U64): number;
  /** Verify (auditor role, replay) and record a signed audit report. */
  recordSigned(trust: TrustStore, envelope: Bytes, options: { now: U64; skew?: number }): void;
  evaluate(era?: U64): EraSummary;
  explain(providerKey: Bytes): TierExplanation;
  /** The certificate of the last evaluated era, to encode() and sign. */
  certificate(providerKey: Bytes): TierCert;
  free(): void;
}

export interface Breakdown {
  price: U64; perfPrice: U64; tier: U64; score: U64; stake: U64; locality: U64; fit: U64; total: U64; tieHash: U64;
}
export interface Candidate {
  providerKey: Bytes; nodeId: string; region: string; model: string; nodeCount: number; providerCount: number;
  priceMicroPerGpuHour: U64; breakdown: Breakdown;
}
export interface Relaxation {
  constraint: number; constraintName: string; from: U64; to: U64; changePct: number; item: string;
  nodesAdded: number; providersAdded: number;
}
export interface Miss { providerKey: Bytes; nodeId: string; failedMask: number; failedCount: number; total: U64; failed: string[] }
export interface Explanation {
  requestId: string; nodesTotal: number; providersTotal: number; nodesFeasible: number; providersFeasible: number;
  matched: number; eliminated: number[]; eliminatedOnly: number[]; misses: Miss[]; relax: Relaxation[];
  candidates: Candidate[]; text: string;
  /** What the model and framework tables made of the request's names (docs/models.md). */
  modelTableVersion: number; unknownModels: string[]; framework: string; frameworkCuda: number;
  frameworkCudaNodes: number; frameworkCudaBest: number; frameworkCcNodes: number; frameworkCcLowest: number;
  frameworkAlt: string;
}
/**
 * A request converted once into the library's memory: market calls take it
 * without converting it again (best() asked many times). A snapshot of the
 * object or bytes it was made from; throws as encode()/decode() would.
 */
export class PreparedRequest implements Freeable {
  constructor(request: Request | Bytes);
  readonly requestId: string;
  toObject(): Request & { type: 'request' };
  encode(): Bytes;
  free(): void;
}
export type RequestArg = Request | Bytes | PreparedRequest;

export class Market implements Freeable {
  constructor(options?: { preset?: keyof typeof Preset | number; seed?: Bytes | null });
  putOffer(offer: Offer | Bytes): void;
  removeOffer(providerKey: Bytes): void;
  setTrust(providerKey: Bytes, tier: number, scorePpm: number): void;
  setVerified(providerKey: Bytes, nodeId: string, verified?: boolean): void;
  addRequest(request: RequestArg): void;
  removeRequest(requestId: string): void;
  endLease(requestId: string): void;
  best(request: RequestArg, k?: number): Candidate[];
  explain(request: RequestArg): Explanation;
  match(now: U64): { receipt: MatchReceipt; bytes: Bytes };
  /** The node holding a GPU (16-byte UUID), null when none; GPURENT_E_INVALID_ARG for the all-zero UUID. */
  gpuOwner(uuid: Bytes): GpuOwner | null;
  /** Mark a node verified by its (already signature-checked) GPU report and bind its GPUs to the
   *  report's UUIDs; GPURENT_E_INVALID_ARG when it is not the node's report, GpuConflictError when a
   *  UUID is held elsewhere or the node offers a GPU the report does not list. */
  verifyReport(providerKey: Bytes, nodeId: string, report: GpuReport | Bytes): void;
  apply(receipt: MatchReceipt | Bytes): void;
  free(): void;
}

/** Bits of GpuOwner.how. */
export const GpuHeld: Readonly<{ offer: 1; report: 2 }>;
export interface GpuOwner {
  providerKey: Bytes; nodeId: string;
  /** GpuHeld bits: the node's offer lists the UUID, its verified GPU report does, or both. */
  how: number; held: Array<keyof typeof GpuHeld>;
}

/** How a name resolved (gpurent_name_kind). */
export const NameKind: Readonly<{ unknown: 0; id: 1; driver: 2; alias: 3; family: 4 }>;
export interface PciId { vendor: number; device: number; subsysVendor: number; subsysDevice: number }
/** One entry of the canonical model table (gpurent_model); zero figures are not known. */
export interface Model {
  id: string; family: string; vendor: string; interface: number; ccMajor: number; ccMinor: number; smCount: number;
  boostClockMhz: number; busWidthBits: number; memoryMib: U64; memBwMbps: U64; fp32Gflops: U64; pci: PciId[];
  names: string[]; aliases: string[]; source: string;
}
/** One framework build (gpurent_framework): archs are compute capability x 10. */
export interface Framework {
  id: string; framework: string; version: string; cudaVersion: number; archs: number[]; ptxCc: number;
  aliases: string[]; source: string;
}
export function modelTableVersion(): number;
/** BLAKE2b-256 of the model table's canonical encoding, lower-case hex. */
export function modelTableDigest(): Bytes;
export function models(): Model[];
/** The model a name names (id, driver name, alias, family of one), or null. */
export function modelFind(name: string): Model | null;
export function modelLookup(name: string): { kind: number; kindName: string; model: Model | null };
/** The members of a family ([] when the name is not one). */
export function modelFamily(name: string): Model[];
/** The entry with this PCI id, or null when none or several match. */
export function modelFindPci(vendor: number, device: number, subsysVendor?: number, subsysDevice?: number): Model | null;
export function frameworkTableVersion(): number;
/** BLAKE2b-256 of the framework table's canonical encoding, lower-case hex. */
export function frameworkTableDigest(): Bytes;
export function frameworks(): Framework[];
export function frameworkFind(name: string): Framework | null;
/** Whether the build runs on compute capability ccMajor.ccMinor (GPURENT_E_NOT_FOUND for an unknown build). */
export function frameworkSupportsCc(name: string, ccMajor: number, ccMinor: number): boolean;

export function toHex(bytes: Bytes): string;
export function fromHex(hex: string): Bytes;
