/**
 * The default vehicle policy: key validity and permissions, plus the relay and intent checks.
 * Checks run in a fixed order and the first failure is the reason:
 * revoked → not-yet-valid → expired → not-permitted → relay-suspected → intent-required →
 * out-of-range → ranging-failed. `advertising-secret` needs no permission (IMPLICIT_PERMISSIONS).
 */
import { windowDenial } from '../keys/key-record.js';
import { IMPLICIT_PERMISSIONS } from '../protocol/commands.js';
import type { ProximityVerdict } from '../roles/types.js';
import type { Policy, PolicyContext, PolicyDecision } from './types.js';

/** Options of {@link defaultPolicy}: the relay bound, the commands that need intent, proximity and ranging requirements. */
export interface DefaultPolicyOptions {
  /**
   * Deny with `relay-suspected` when the phone's handshake arrives later than this after the
   * challenge (ms). Default 300: a real BLE exchange takes 7.5–50 ms per connection event plus the
   * phone's 3 ECDH (≈10–60 ms in JS, less in hardware); an internet relay adds 50–300 ms. It cannot
   * catch a fast link-layer relay (≈8 ms added): that needs secure ranging. `Infinity` disables it.
   */
  readonly maxRttMs?: number;
  /** Commands that require the phone's user-intent flag. Default: `['start']`. */
  readonly requireIntent?: readonly string[];
  /** Per command, the proximity zones accepted; commands not listed are not checked. Default: none. */
  readonly requireProximity?: Readonly<Record<string, readonly ProximityVerdict['zone'][]>>;
  /** Commands that require a positive secure-ranging verdict. Default: none. */
  readonly requireRanging?: readonly string[];
}

/** Default `maxRttMs`: a handshake later than this after the challenge is `relay-suspected`. */
export const DEFAULT_MAX_RTT_MS = 300;

const allow: PolicyDecision = Object.freeze({ allow: true });
const deny = (reason: Extract<PolicyDecision, { allow: false }>['reason']): PolicyDecision => ({ allow: false, reason });

/**
 * The default vehicle policy (see the module comment for the order of its checks).
 * @param options the relay bound, intent, proximity and ranging requirements.
 * @returns a `Policy` for `VehicleService` / `VehicleSession`.
 */
export function defaultPolicy(options: DefaultPolicyOptions = {}): Policy {
  const maxRtt = options.maxRttMs ?? DEFAULT_MAX_RTT_MS;
  const intent = new Set(options.requireIntent ?? ['start']);
  const ranging = new Set(options.requireRanging ?? []);
  const proximity = options.requireProximity ?? {};
  return (ctx: PolicyContext): PolicyDecision => {
    const { key, commandName: name, now } = ctx;
    if (key.revoked) return deny('revoked');
    const outside = windowDenial(key, now);
    if (outside) return deny(outside);
    if (!key.permissions.includes('*') && !key.permissions.includes(name) && !IMPLICIT_PERMISSIONS.includes(name)) return deny('not-permitted');
    if (ctx.rttMs > maxRtt) return deny('relay-suspected');
    if (intent.has(name) && !ctx.intent) return deny('intent-required');
    const zones = proximity[name];
    if (zones && !(ctx.proximity && zones.includes(ctx.proximity.zone))) return deny('out-of-range');
    if (ranging.has(name) && !ctx.ranging?.ok) return deny('ranging-failed');
    return allow;
  };
}
