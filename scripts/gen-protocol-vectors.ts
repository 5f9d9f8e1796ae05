/**
 * `npm run vectors`: regenerate the published vectors in test/vectors/ (test/vectors/README.md
 * describes every field): the role transcripts protocol-*.json (fixed keys and ephemerals, with
 * their Noise intermediates), the service flows flow-*.json (pairing, grants, administration),
 * the negatives, the framing and the advertising vectors. Deterministic: running it twice
 * gives the same bytes (tested). Tests replay them; commit the output only when the wire format
 * changes on purpose (and update docs/PROTOCOL.md with it).
 */
import { writeFileSync } from 'node:fs';
import { nobleCrypto, type CryptoProvider } from '../src/index.js';
import { buildDataVectors } from './data-vectors.js';
import { buildFlows } from './flow-vectors.js';
import { buildNegatives } from './negative-vectors.js';
import { recordTranscript, type TranscriptDefinition } from './transcript.js';

// Fixed, obviously-test secrets (valid P-256 scalars). Never use them for anything real.
const K = (byte: string) => byte.repeat(32);
const common = {
  vehicleStaticSecret: K('11'),
  vehicleEphemeralSecret: K('22'),
  phoneStaticSecret: K('33'),
  phoneEphemeralSecret: K('44'),
  vehicleSuites: [1, 2],
} as const;

export const TRANSCRIPT_DEFINITIONS: readonly TranscriptDefinition[] = [
  {
    ...common,
    name: 'unlock-lock-start',
    description:
      'Suite 1 (Noise_KX_P256_AESGCM_SHA256). Enrolled owner: unlock in the handshake, lock and start (with intent) as records, then the phone closes.',
    phoneSuites: [1, 2],
    enrolled: true,
    steps: [{ command: 'unlock' }, { command: 'lock' }, { command: 'start', intent: true }],
  },
  {
    ...common,
    name: 'chachapoly-unlock',
    description: 'Suite 2 (Noise_KX_P256_ChaChaPoly_SHA256), chosen by the phone. Enrolled owner: unlock, then close.',
    phoneSuites: [2, 1],
    enrolled: true,
    steps: [{ command: 'unlock' }],
  },
  {
    ...common,
    name: 'unknown-key',
    description: 'Suite 1. The phone is not enrolled: authenticated unknown-key result, then the car closes; the phone sends nothing after it.',
    phoneSuites: [1, 2],
    enrolled: false,
    steps: [{ command: 'unlock' }],
  },
];

/** The vector files, name → content, exactly as written; the same on every provider (tested). */
export async function buildVectorFiles(crypto: CryptoProvider = nobleCrypto): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const put = (name: string, value: unknown) => files.set(name, `${JSON.stringify(value, null, 2)}\n`);
  const transcripts = [];
  for (const d of TRANSCRIPT_DEFINITIONS) transcripts.push(await recordTranscript(d, crypto));
  for (const t of transcripts) put(`protocol-${t.name}.json`, t);
  for (const f of await buildFlows(crypto)) put(`flow-${f.name}.json`, f);
  put('negatives.json', await buildNegatives(TRANSCRIPT_DEFINITIONS[0]!, crypto));
  for (const [name, value] of Object.entries(buildDataVectors(transcripts[0]!.messages))) put(`${name}.json`, value);
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [name, text] of await buildVectorFiles()) {
    const file = new URL(`../test/vectors/${name}`, import.meta.url);
    writeFileSync(file, text);
    console.log(`${file.pathname}: ${text.length} B`);
  }
}
