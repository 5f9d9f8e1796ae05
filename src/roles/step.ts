/**
 * What every sans-IO role shares: one step at a time (re-entrant calls are a local error), steps
 * allowed only in given states, and the shape of an output.
 */
import { LocalError, RemoteError, type ProxkeyError } from '../errors.js';
import { MessageType } from '../protocol/constants.js';
import { encodeMessage } from '../protocol/messages.js';
import type { DenyReason } from '../protocol/reasons.js';
import type { RoleOutput } from './types.js';

export class StepGuard<S extends string> {
  #busy = false;
  constructor(private readonly role: string) {}

  /** Run `step` if no other step is running and `state` is one of `allowed`. */
  async run<T>(state: S, allowed: readonly S[], step: () => Promise<T>): Promise<T> {
    if (this.#busy) throw new LocalError('ERR_INVALID_STATE', `${this.role}: a step is already in progress`);
    if (!allowed.includes(state)) throw new LocalError('ERR_INVALID_STATE', `${this.role}: not allowed in state ${state}`);
    this.#busy = true;
    try {
      return await step();
    } finally {
      this.#busy = false;
    }
  }
}

export function output<E>(send: Uint8Array[], events: E[] = [], done = false): RoleOutput<E> {
  return { send, events, done };
}

/** Peer input errors are `RemoteError`s; anything else is a bug and propagates. */
export function asPeerError(err: unknown): RemoteError {
  if (!(err instanceof RemoteError)) throw err;
  return err;
}

/** The car's output for rejected peer input: one `error` event and an unauthenticated ALERT(reason), the state unchanged. */
export function rejectedWithAlert(err: unknown, reason: DenyReason = 'malformed'): RoleOutput<{ readonly type: 'error'; readonly error: ProxkeyError }> {
  return output([encodeMessage({ type: MessageType.Alert, reason })], [{ type: 'error', error: asPeerError(err) }]);
}

/** The output for rejected peer input: one `error` event, the state unchanged. */
export function rejectedInput(err: unknown): RoleOutput<{ readonly type: 'error'; readonly error: ProxkeyError }> {
  return output([], [{ type: 'error', error: asPeerError(err) }]);
}
