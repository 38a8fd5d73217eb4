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
export type WireRecord = GpuRecord | Offer | (Request & { type: 'request' }) | TierCert | Revocation | MatchReceipt;

/** Throw a WireError unless `bytes` is one canonical value. */
export function checkCanonical(bytes: Bytes): void;
/** The record type of encoded bytes ("offer"). */
export function recordType(bytes: Bytes): RecordTypeName | 'unknown';
/** Decode a gpu, offer, request, tier_cert, revocation or match_receipt. */
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
}
export class Market implements Freeable {
  constructor(options?: { preset?: keyof typeof Preset | number; seed?: Bytes | null });
  putOffer(offer: Offer | Bytes): void;
  removeOffer(providerKey: Bytes): void;
  setTrust(providerKey: Bytes, tier: number, scorePpm: number): void;
  setVerified(providerKey: Bytes, nodeId: string, verified?: boolean): void;
  addRequest(request: Request | Bytes): void;
  removeRequest(requestId: string): void;
  endLease(requestId: string): void;
  best(request: Request | Bytes, k?: number): Candidate[];
  explain(request: Request | Bytes): Explanation;
  match(now: U64): { receipt: MatchReceipt; bytes: Bytes };
  apply(receipt: MatchReceipt | Bytes): void;
  free(): void;
}

export function toHex(bytes: Bytes): string;
export function fromHex(hex: string): Bytes;
