/**
 * `npm run vectors`: regenerate test/vectors/protocol-*.json, the published transcripts of
 * protocol v1 (fixed keys and ephemerals). Tests replay them byte for byte; commit the output
 * only when the wire format changes on purpose (and update docs/PROTOCOL.md with it).
 */
import { writeFileSync } from 'node:fs';
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

const definitions: TranscriptDefinition[] = [
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
    description: 'Suite 1. The phone is not enrolled: authenticated unknown-key result, then the car closes.',
    phoneSuites: [1, 2],
    enrolled: false,
    steps: [{ command: 'unlock' }],
  },
];

for (const d of definitions) {
  const v = await recordTranscript(d);
  const file = new URL(`../test/vectors/protocol-${d.name}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(v, null, 2)}\n`);
  console.log(`${file.pathname}: ${v.messages.length} messages, results ${v.results.join(',')}, unlock ${v.totalUnlockBytes} B`);
}
