/**
 * Shared helpers for replaying Wycheproof vectors (C2SP/wycheproof `testvectors_v1/`, copied
 * unmodified into test/vectors/wycheproof/). Not a test file itself.
 */
import { readFileSync } from 'node:fs';
import { fromHex } from '../../src/bytes.js';
import { ProxkeyError } from '../../src/errors.js';

export type Result = 'valid' | 'invalid' | 'acceptable';

export interface TestCase {
  tcId: number;
  comment: string;
  flags: string[];
  result: Result;
}

export interface TestGroup<T extends TestCase> {
  type: string;
  tests: T[];
}

export interface WycheproofFile<G extends TestGroup<TestCase>> {
  algorithm: string;
  numberOfTests: number;
  notes: Record<string, unknown>;
  testGroups: G[];
}

export interface EcdhCase extends TestCase {
  public: string;
  private: string;
  shared: string;
}
export interface EcdhGroup extends TestGroup<EcdhCase> {
  curve: string;
  encoding: 'ecpoint' | 'asn';
}

export interface EcdsaCase extends TestCase {
  msg: string;
  sig: string;
}
export interface EcdsaGroup extends TestGroup<EcdsaCase> {
  publicKey: { curve: string; uncompressed: string };
  publicKeyDer: string;
  sha: string;
}

export interface HkdfCase extends TestCase {
  ikm: string;
  salt: string;
  info: string;
  size: number;
  okm: string;
}
export type HkdfGroup = TestGroup<HkdfCase> & { keySize: number };

export interface MacCase extends TestCase {
  key: string;
  msg: string;
  tag: string;
}
export interface MacGroup extends TestGroup<MacCase> {
  keySize: number;
  tagSize: number;
}

export interface AeadCase extends TestCase {
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
}
export interface AeadGroup extends TestGroup<AeadCase> {
  keySize: number;
  ivSize: number;
  tagSize: number;
}

export function loadWycheproof<G extends TestGroup<TestCase>>(file: string): WycheproofFile<G> {
  return JSON.parse(readFileSync(new URL(`../vectors/wycheproof/${file}`, import.meta.url), 'utf8'));
}

/** Every case of a file, paired with its group. */
export function* cases<G extends TestGroup<TestCase>>(f: WycheproofFile<G>): Generator<[G, G['tests'][number]]> {
  for (const g of f.testGroups) for (const t of g.tests) yield [g, t];
}

export const hex = fromHex;

/** P-256 group order n. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * Wycheproof gives ECDH private keys as ASN.1-style big-endian integers of any length (33 bytes
 * with a leading 00 sign byte, or shorter than 32). Our API takes the fixed 32-byte encoding, so
 * the harness re-encodes the integer; `null` if it does not fit in 32 bytes.
 */
export function scalar32(hexInt: string): { bytes: Uint8Array; value: bigint } | null {
  const value = BigInt(`0x${hexInt || '0'}`);
  if (value >= 1n << 256n) return null;
  return { bytes: fromHex(value.toString(16).padStart(64, '0')), value };
}

/** Runs `fn`; returns what it threw, or `undefined` if it did not throw. */
export async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** Short description of an error for failure lists. */
export function describeError(e: unknown): string {
  if (e === undefined) return 'no error';
  if (e instanceof ProxkeyError) return `${e.name}(${e.code}): ${e.message}`;
  return `foreign ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
}

/** Tally of how each case of a file was handled; the tests assert it sums to numberOfTests. */
export class Tally {
  readonly counts = new Map<string, number>();
  readonly failures: string[] = [];
  add(bucket: string): void {
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
  }
  get(bucket: string): number {
    return this.counts.get(bucket) ?? 0;
  }
  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  fail(tcId: number, what: string): void {
    this.failures.push(`tcId ${tcId}: ${what}`);
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort());
  }
}
