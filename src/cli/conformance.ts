/**
 * `proxkey conformance --role car|phone (--connect ADDRESS | --self)`: drives an implementation
 * of one role over the byte-stream binding (docs/BLE.md "Byte-stream binding") through the
 * published transcripts and a scripted set of live behaviours, one line per check, then
 * `N passed, N failed` alone on the last line. docs/CONFORMANCE.md is the setup contract.
 */
import { connectSocketLink } from '../node/socket-link.js';
import { carChecks, type CarTarget } from './conformance-car.js';
import { drainedLink } from './conformance-link.js';
import { runChecks, type CheckOutcome } from './conformance-check.js';
import { phoneChecks, type PhoneTarget } from './conformance-phone.js';
import { serveSelfCar, serveSelfPhone, type SelfTarget } from './conformance-self.js';

export interface ConformanceArgs {
  readonly role: 'car' | 'phone';
  /** `tcp:HOST:PORT` or `unix:PATH`; absent with `self`. */
  readonly connect?: string;
  readonly self?: boolean;
  /** The car's pairing code (role car, not with self). */
  readonly code?: string;
  /** The car's commands-per-session limit (role car). Default 32. */
  readonly maxCommands?: number;
  readonly timeoutMs: number;
}

/** `tcp:HOST:PORT` → `HOST:PORT`, `unix:PATH` → `PATH` (what connectSocketLink takes). */
export function socketAddress(connect: string): string {
  const m = /^(tcp|unix):(.+)$/.exec(connect);
  if (!m || (m[1] === 'tcp' && !/^[^:]+:\d+$/.test(m[2]!))) throw new ConformanceUsageError(`--connect: expected tcp:HOST:PORT or unix:PATH, got "${connect}"`);
  return m[2]!;
}

export class ConformanceUsageError extends Error {}

function line(o: CheckOutcome): string {
  return `${o.passed ? 'pass' : 'FAIL'}  ${o.id}${o.detail ? `  ${o.detail}` : ''}\n`;
}

async function target(a: ConformanceArgs): Promise<SelfTarget> {
  const maxCommands = a.maxCommands ?? 32;
  if (a.self) return a.role === 'car' ? serveSelfCar({ maxCommands }) : serveSelfPhone({ timeoutMs: a.timeoutMs });
  if (!a.connect) throw new ConformanceUsageError('conformance needs --connect tcp:HOST:PORT | unix:PATH, or --self');
  if (a.role === 'car' && !a.code) throw new ConformanceUsageError('--role car needs --code: the pairing code the car under test shows');
  socketAddress(a.connect);
  return { connect: a.connect, ...(a.code && { code: a.code }), close: () => Promise.resolve() };
}

/** Run the whole set; resolves with the exit code (1 if any check failed). */
export async function conformance(a: ConformanceArgs, write: (text: string) => void): Promise<number> {
  const t = await target(a);
  const address = socketAddress(t.connect);
  const connect = async () => drainedLink(await connectSocketLink(address, { timeoutMs: a.timeoutMs }));
  try {
    write(`proxkey conformance: role ${a.role} at ${t.connect}${a.self ? ' (proxkey itself)' : ''}\n`);
    const outcomes =
      a.role === 'car'
        ? await runChecks<CarTarget>(carChecks(), { connect, code: t.code ?? a.code ?? '', maxCommands: a.maxCommands ?? 32, timeoutMs: a.timeoutMs }, (o) =>
            write(line(o)),
          )
        : await runChecks<PhoneTarget>(phoneChecks(), { connect, timeoutMs: a.timeoutMs, executed: [] }, (o) => write(line(o)));
    const failed = outcomes.filter((o) => !o.passed).length;
    write(`${outcomes.length - failed} passed, ${failed} failed\n`);
    return failed ? 1 : 0;
  } finally {
    await t.close();
  }
}
