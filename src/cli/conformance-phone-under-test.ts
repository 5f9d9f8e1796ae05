/**
 * proxkey's phone as a phone under test: on each connection it reads the runner's directive,
 * does what it says over the rest of the stream, and answers with its report (control frames,
 * conformance-control.ts). A foreign phone implements the same loop (docs/CONFORMANCE.md).
 */
import { ProxkeyError } from '../errors.js';
import type { PhoneWallet } from '../service/phone-wallet.js';
import type { Link } from '../transport/link.js';
import type { CommandResult } from '../transport/phone-driver.js';
import { commandInput, dataHex, decodeControl, encodeControl, type Directive, type Report } from './conformance-control.js';
import { SessionLink } from './conformance-link.js';

function errorCode(e: unknown): string {
  return e instanceof ProxkeyError ? e.code : 'ERR_INTERNAL';
}

async function obey(phone: PhoneWallet, link: Link, d: Directive, timeoutMs: number): Promise<Report> {
  const results: CommandResult[] = [];
  const report = (extra: Partial<Report> = {}): Report => ({ results: results.map((r) => ({ status: r.status, data: dataHex(r.data) })), ...extra });
  try {
    if (d.action === 'pair') {
      await phone.pair(link, d.code, { timeoutMs });
      return report({ paired: true });
    }
    const [first, ...rest] = d.commands;
    if (!first) return report({ error: 'ERR_INVALID_ARGUMENT' });
    const { result, connection } = await phone.open(link, commandInput(first.command), { intent: first.intent === true, timeoutMs });
    results.push(result);
    for (const c of rest) results.push(await connection.send(commandInput(c.command), { intent: c.intent === true }));
    if (!d.awaitClose) {
      await connection.close();
      return report();
    }
    const closeReason = await connection.awaitClose({ timeoutMs });
    return report(closeReason ? { closeReason } : {});
  } catch (e) {
    return report({ error: errorCode(e) });
  }
}

/** Serve one connection of the runner: directive in, the session, report out, then close. */
export async function servePhoneUnderTest(phone: PhoneWallet, stream: Link, options: { readonly timeoutMs: number }): Promise<void> {
  try {
    const directive = decodeControl(await stream.receive({ timeoutMs: options.timeoutMs })) as Directive;
    const session = new SessionLink(stream);
    const report = await obey(phone, session, directive, options.timeoutMs);
    session.close('session over');
    await stream.send(encodeControl(report));
  } catch {
    /* the runner went away or sent no directive: nothing to report */
  } finally {
    stream.close('done');
  }
}
