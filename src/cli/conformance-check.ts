/** A conformance check: an id, what it proves, and how to run it against a target. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A check failed: `message` says what the peer did instead of what the spec requires. */
export class CheckFailure extends Error {}

/** Fail the current check unless `condition` holds. */
export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}

export interface Check<Context> {
  readonly id: string;
  /** One sentence: what is sent and what is expected (docs/CONFORMANCE.md repeats it). */
  readonly expects: string;
  /** Resolves with a short detail for the output line; throws `CheckFailure` (or any error) when the peer fails. */
  readonly run: (context: Context) => Promise<string | void>;
}

export interface CheckOutcome {
  readonly id: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** Run the checks in order (later checks may use what earlier ones set up), one outcome each. */
export async function runChecks<C>(checks: readonly Check<C>[], context: C, onOutcome: (o: CheckOutcome) => void): Promise<CheckOutcome[]> {
  const outcomes: CheckOutcome[] = [];
  for (const check of checks) {
    let outcome: CheckOutcome;
    try {
      outcome = { id: check.id, passed: true, detail: (await check.run(context)) ?? '' };
    } catch (e) {
      const detail = e instanceof CheckFailure ? e.message : `${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
      outcome = { id: check.id, passed: false, detail };
    }
    outcomes.push(outcome);
    onOutcome(outcome);
  }
  return outcomes;
}

/** One published transcript (test/vectors/protocol-*.json), the fields the live checks use. */
export interface TranscriptShape {
  readonly name: string;
  readonly enrolled: boolean;
  readonly steps: readonly { readonly command: string; readonly intent?: boolean }[];
  readonly results: readonly string[];
  readonly messages: readonly { readonly from: 'vehicle' | 'phone'; readonly hex: string }[];
  /** The application actions (test/vectors/README.md); a transcript without a phone `close` ends with the car's CLOSE. */
  readonly actions?: readonly { readonly by: 'vehicle' | 'phone'; readonly action: string }[];
}

/** Whether the phone of `t` closes the session itself (else it reads the car's CLOSE and sends nothing more, §6). */
export const phoneCloses = (t: TranscriptShape): boolean => t.actions?.some((a) => a.by === 'phone' && a.action === 'close') ?? true;

/** Where the transcripts are: `PROXKEY_VECTORS`, else test/vectors of the checkout this runs from (src/cli or dist). */
function vectorDirs(): string[] {
  if (process.env.PROXKEY_VECTORS) return [process.env.PROXKEY_VECTORS];
  return ['../../test/vectors/', '../test/vectors/'].map((rel) => new URL(rel, import.meta.url).pathname);
}

/** The published transcripts (test/vectors/protocol-*.json), from the first directory that has them. */
export function loadTranscripts(): TranscriptShape[] {
  for (const dir of vectorDirs()) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => /^protocol-.*\.json$/.test(f));
    } catch {
      continue;
    }
    if (files.length) return files.sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as TranscriptShape);
  }
  return [];
}

/** The live transcript checks, or one failing check saying where to find the transcripts. */
export function transcriptChecksOr<C>(make: (t: TranscriptShape) => Check<C>): Check<C>[] {
  const transcripts = loadTranscripts();
  if (transcripts.length) return transcripts.map(make);
  return [
    {
      id: 'vectors',
      expects: 'the published transcripts are found',
      run: () => Promise.reject(new CheckFailure('no protocol-*.json found: set PROXKEY_VECTORS to the directory of the published transcripts')),
    },
  ];
}

/** `type:length` of each message: what a live run must match (keys and randomness differ, sizes do not). */
export function shapes(messages: readonly Uint8Array[]): string[] {
  return messages.map((m) => `${(m[0] ?? 0).toString(16).padStart(2, '0')}:${m.length}`);
}

export function recordedShapes(t: TranscriptShape, from: 'vehicle' | 'phone'): string[] {
  return t.messages.filter((m) => m.from === from).map((m) => `${m.hex.slice(0, 2)}:${m.hex.length / 2}`);
}
