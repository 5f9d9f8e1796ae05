/**
 * Noise handshake patterns as data (Noise spec rev 34, §7.4 one-way, §7.5 interactive,
 * §18 deferred) and the `pskN` modifier (§9.2). Message i is sent by the initiator when i is even.
 */
import { LocalError } from '../errors.js';

export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk';
export type PreToken = 'e' | 's';

export interface HandshakePattern {
  readonly name: string;
  /** Pre-messages: public keys each side knows of the other in advance (§7.2). */
  readonly preInitiator: readonly PreToken[];
  readonly preResponder: readonly PreToken[];
  readonly messages: readonly (readonly Token[])[];
  /** One-way patterns (N, K, X): only the initiator sends, also after the handshake. */
  readonly oneWay: boolean;
}

type Row = [pre: string, pre: string, ...messages: string[]];

/** The base patterns, written exactly as in the spec: `-> e, es` becomes `'e es'`. */
const TABLE: Record<string, Row> = {
  N: ['', 's', 'e es'],
  K: ['s', 's', 'e es ss'],
  X: ['', 's', 'e es s ss'],
  NN: ['', '', 'e', 'e ee'],
  NK: ['', 's', 'e es', 'e ee'],
  NX: ['', '', 'e', 'e ee s es'],
  XN: ['', '', 'e', 'e ee', 's se'],
  XK: ['', 's', 'e es', 'e ee', 's se'],
  XX: ['', '', 'e', 'e ee s es', 's se'],
  KN: ['s', '', 'e', 'e ee se'],
  KK: ['s', 's', 'e es ss', 'e ee se'],
  KX: ['s', '', 'e', 'e ee se s es'],
  IN: ['', '', 'e s', 'e ee se'],
  IK: ['', 's', 'e es s ss', 'e ee se'],
  IX: ['', '', 'e s', 'e ee se s es'],
  // deferred patterns (§18)
  NK1: ['', 's', 'e', 'e ee es'],
  NX1: ['', '', 'e', 'e ee s', 'es'],
  X1N: ['', '', 'e', 'e ee', 's', 'se'],
  X1K: ['', 's', 'e es', 'e ee', 's', 'se'],
  XK1: ['', 's', 'e', 'e ee es', 's se'],
  X1K1: ['', 's', 'e', 'e ee es', 's', 'se'],
  X1X: ['', '', 'e', 'e ee s es', 's', 'se'],
  XX1: ['', '', 'e', 'e ee s', 'es s se'],
  X1X1: ['', '', 'e', 'e ee s', 'es s', 'se'],
  K1N: ['s', '', 'e', 'e ee', 'se'],
  K1K: ['s', 's', 'e es', 'e ee', 'se'],
  KK1: ['s', 's', 'e', 'e ee se es'],
  K1K1: ['s', 's', 'e', 'e ee es', 'se'],
  K1X: ['s', '', 'e', 'e ee s es', 'se'],
  KX1: ['s', '', 'e', 'e ee se s', 'es'],
  K1X1: ['s', '', 'e', 'e ee s', 'se es'],
  I1N: ['', '', 'e s', 'e ee', 'se'],
  I1K: ['', 's', 'e es s', 'e ee', 'se'],
  IK1: ['', 's', 'e s', 'e ee se es'],
  I1K1: ['', 's', 'e s', 'e ee es', 'se'],
  I1X: ['', '', 'e s', 'e ee s es', 'se'],
  IX1: ['', '', 'e s', 'e ee se s', 'es'],
  I1X1: ['', '', 'e s', 'e ee s', 'se es'],
};

const ONE_WAY = new Set(['N', 'K', 'X']);
const split = (s: string) => (s === '' ? [] : s.split(' '));

/** All base pattern names in the table. */
export const PATTERN_NAMES: readonly string[] = Object.keys(TABLE);

/** Resolved patterns by name (immutable, so shared); bounded, since modifiers make names unbounded. */
const resolved = new Map<string, HandshakePattern>();
const MAX_RESOLVED = 64;

/**
 * Resolve a pattern name with optional modifiers, e.g. `KX`, `XXpsk3`, `NNpsk0+psk2`. The result
 * is deeply frozen and may be shared between callers.
 * Throws `LocalError('ERR_INVALID_ARGUMENT')` for unknown patterns or out-of-range psk positions.
 */
export function getPattern(name: string): HandshakePattern {
  const known = resolved.get(name);
  if (known) return known;
  const pattern = resolvePattern(name);
  if (resolved.size < MAX_RESOLVED) resolved.set(name, pattern);
  return pattern;
}

function resolvePattern(name: string): HandshakePattern {
  const m = /^([A-Z0-9]+?)((?:psk\d+)(?:\+psk\d+)*)?$/.exec(name);
  const row = m ? TABLE[m[1]!] : undefined;
  if (!m || !row) throw new LocalError('ERR_INVALID_ARGUMENT', `unknown Noise pattern: ${name}`);
  const [preI, preR, ...msgs] = row;
  const messages = msgs.map((s) => split(s) as Token[]);
  for (const mod of m[2] ? m[2].split('+') : []) {
    const n = Number(mod.slice(3));
    if (n === 0) messages[0]!.unshift('psk');
    else if (n <= messages.length) messages[n - 1]!.push('psk');
    else throw new LocalError('ERR_INVALID_ARGUMENT', `psk modifier out of range in ${name}`);
  }
  return Object.freeze({
    name,
    preInitiator: Object.freeze(split(preI) as PreToken[]),
    preResponder: Object.freeze(split(preR) as PreToken[]),
    messages: Object.freeze(messages.map((tokens) => Object.freeze(tokens))),
    oneWay: ONE_WAY.has(m[1]!),
  });
}
