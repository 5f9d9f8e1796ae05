/**
 * CLI output: human lines (with a spinner on a TTY) or `--json` (one JSON object per line), and
 * the mapping of every error to one actionable line.
 */
import { BleUnavailableError } from '../adapters/common.js';
import { DeniedError, ProxkeyError, StoreError, messageOf } from '../errors.js';
import { DENY_REASON_TEXT, type DenyReason } from '../protocol/reasons.js';

export interface Ui {
  readonly json: boolean;
  /** A progress line (spinner on a TTY); returns a function that ends it. */
  progress(text: string): () => void;
  /** A human line (suppressed in --json mode). */
  info(text: string): void;
  /** Advice for a person, on stderr (stdout stays the result alone); suppressed in --json mode. */
  hint(text: string): void;
  /** The command's result: printed as JSON in --json mode, else as `human`. */
  result(data: Record<string, unknown>, human: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createUi(json: boolean, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Ui {
  return {
    json,
    progress(text) {
      if (json) return () => undefined;
      if (!err.isTTY) return () => undefined; // logs and pipes get results and errors only
      let i = 0;
      const draw = () => err.write(`\r${FRAMES[i++ % FRAMES.length]} ${text}…`);
      draw();
      const timer = setInterval(draw, 80);
      timer.unref?.();
      return () => {
        clearInterval(timer);
        err.write('\r\x1b[2K');
      };
    },
    info(text) {
      if (!json) out.write(`${text}\n`);
    },
    hint(text) {
      if (!json) err.write(`(${text})\n`);
    },
    result(data, human) {
      out.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
    },
  };
}

/** What a denial means for the user, in a few words (with the CLI's flags). */
export const REASON_TEXT: Partial<Record<DenyReason, string>> = {
  ...DENY_REASON_TEXT,
  'intent-required': 'confirm the action: add --intent',
  'pairing-closed': 'the car is not in pairing mode (press its pairing button / run `proxkey car pair`)',
};

/** What to do after a failure that says the car may have executed the command anyway. */
export const MAY_HAVE_RUN = 'the car may have executed it — check the car before retrying';

/**
 * One line for any error, with what to do. An error whose `mayHaveSucceeded` is set says so
 * instead of advising a retry, and carries `mayHaveSucceeded: true` (for the --json line).
 */
export function describeError(e: unknown): { code: string; message: string; mayHaveSucceeded?: true } {
  const line = describeFailure(e);
  return e instanceof ProxkeyError && e.mayHaveSucceeded ? { ...line, mayHaveSucceeded: true } : line;
}

/** `describeError` without the flag: the line itself. */
function describeFailure(e: unknown): { code: string; message: string } {
  if (e instanceof BleUnavailableError) return { code: e.code, message: `Bluetooth unavailable: ${e.message.replace(/\n/g, ' — ')}` };
  const mayHaveRun = e instanceof ProxkeyError && e.mayHaveSucceeded;
  const advice = (otherwise: string) => (mayHaveRun ? MAY_HAVE_RUN : otherwise);
  if (e instanceof DeniedError)
    return {
      code: e.code,
      message: `denied by the car: ${e.reason} — ${REASON_TEXT[e.reason as DenyReason] ?? e.reason}${mayHaveRun ? `; ${MAY_HAVE_RUN}` : ''}`,
    };
  if (e instanceof StoreError) return { code: e.code, message: e.message };
  if (e instanceof ProxkeyError) {
    switch (e.code) {
      case 'ERR_TIMEOUT':
        return {
          code: e.code,
          message: /scan/.test(e.message)
            ? 'car not found: no proxkey car is advertising nearby (is it running, powered and in range?)'
            : `no answer from the car (${e.message}): ${advice('move closer and retry')}`,
        };
      case 'ERR_LINK_CLOSED':
        return { code: e.code, message: `the connection to the car was lost (${e.message}): ${advice('retry')}` };
      case 'ERR_DECRYPT':
        return { code: e.code, message: 'the car failed authentication: it is not the car this phone paired with (or the message was tampered with)' };
      case 'ERR_PAIRING_FAILED':
        return { code: e.code, message: `pairing failed: ${e.message}` };
      default:
        return { code: e.code, message: mayHaveRun ? `${e.message}: ${MAY_HAVE_RUN}` : e.message };
    }
  }
  return { code: 'ERR_INTERNAL', message: messageOf(e) };
}
