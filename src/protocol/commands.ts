/**
 * Commands: four standard ones, two administrative ones (owners only), one maintenance command
 * every valid key may send (`advertising-secret`) and application-defined custom codes 0x80–0xFF.
 * A permission is the command's name: `unlock`, `lock`, `start`, `trunk`, `list-keys`, `revoke`,
 * or `custom:<code>`.
 */
import { fromHex, toHex } from '../bytes.js';
import { LocalError } from '../errors.js';

/** The standard (physical) commands and their wire codes. */
export const STANDARD_COMMANDS = { unlock: 0x01, lock: 0x02, start: 0x03, trunk: 0x04 } as const;
/** `unlock`, `lock`, `start` or `trunk`. */
export type StandardCommand = keyof typeof STANDARD_COMMANDS;

/**
 * Administrative commands: list the car's keys; revoke a key (8-byte id) or a grant (16-byte id);
 * fetch the car's current advertising secret (it changes when a key is revoked, docs/PRIVACY.md).
 */
export const ADMIN_COMMANDS = { 'list-keys': 0x20, revoke: 0x21, 'advertising-secret': 0x22 } as const;
/** Commands every valid (not revoked, in its window) key may send without a permission for them. */
export const IMPLICIT_PERMISSIONS: readonly string[] = Object.freeze(['advertising-secret']);

/** `revoke` flag byte after an 8-byte key id: also revoke the keys that owner enrolled. */
const REVOKE_CASCADE = 0x01;

/** Lowest wire code of an application-defined (custom) command. */
export const CUSTOM_COMMAND_MIN = 0x80;
/** Highest wire code of an application-defined (custom) command. */
export const CUSTOM_COMMAND_MAX = 0xff;

/** A command as the API sees it. `args` are opaque app bytes (≤ 64), for custom commands only. */
export type Command =
  | { readonly kind: StandardCommand }
  /** `page` (default 0): 23 keys per page. */
  | { readonly kind: 'list-keys'; readonly page?: number }
  /**
   * `target`: a key id (16 hex chars) or a grant id (32 hex chars). `cascade` (key ids only):
   * also revoke every shared key that owner enrolled through its grants.
   */
  | { readonly kind: 'revoke'; readonly target: string; readonly cascade?: boolean }
  /** RESULT data: the car's current advertising secret (32 bytes), inside the session. */
  | { readonly kind: 'advertising-secret' }
  | { readonly kind: 'custom'; readonly code: number; readonly args?: Uint8Array };

/** Anything accepted where a command is expected: `'unlock'`, `{ kind: 'custom', code: 0x81 }`. */
export type CommandInput = StandardCommand | 'list-keys' | 'advertising-secret' | Command;

/**
 * The command `input` names, checked: `'unlock'` becomes `{ kind: 'unlock' }`.
 * @throws {LocalError} `ERR_INVALID_ARGUMENT` for an unknown kind, a page outside 0..255, a revoke target that is not a key or grant id, a custom code outside 0x80..0xff.
 */
export function toCommand(input: CommandInput): Command {
  const cmd: Command = typeof input === 'string' ? { kind: input } : input;
  switch (cmd?.kind) {
    case 'unlock':
    case 'lock':
    case 'start':
    case 'trunk':
    case 'advertising-secret':
      return { kind: cmd.kind };
    case 'list-keys': {
      const page = cmd.page ?? 0;
      if (!Number.isInteger(page) || page < 0 || page > 255) throw new LocalError('ERR_INVALID_ARGUMENT', 'list-keys page: 0..255');
      return page ? { kind: 'list-keys', page } : { kind: 'list-keys' };
    }
    case 'revoke':
      if (typeof cmd.target !== 'string' || !/^([0-9a-f]{16}|[0-9a-f]{32})$/.test(cmd.target))
        throw new LocalError('ERR_INVALID_ARGUMENT', 'revoke target: a key id (16 hex) or grant id (32 hex)');
      if (cmd.cascade && cmd.target.length !== 16) throw new LocalError('ERR_INVALID_ARGUMENT', 'revoke cascade: only for a key id');
      return cmd.cascade ? { kind: 'revoke', target: cmd.target, cascade: true } : { kind: 'revoke', target: cmd.target };
    case 'custom': {
      const { code } = cmd;
      if (!Number.isInteger(code) || code < CUSTOM_COMMAND_MIN || code > CUSTOM_COMMAND_MAX)
        throw new LocalError('ERR_INVALID_ARGUMENT', 'custom command code: integer 0x80..0xff');
      return cmd.args ? { kind: 'custom', code, args: cmd.args } : { kind: 'custom', code };
    }
    default:
      throw new LocalError('ERR_INVALID_ARGUMENT', `unknown command: ${JSON.stringify((cmd as { kind?: unknown } | undefined)?.kind ?? input)}`);
  }
}

/** The wire code of a command (0x01.. standard, 0x20.. admin, 0x80..0xff custom). */
export function commandCode(cmd: Command): number {
  switch (cmd.kind) {
    case 'custom':
      return cmd.code;
    case 'list-keys':
    case 'revoke':
    case 'advertising-secret':
      return ADMIN_COMMANDS[cmd.kind];
    default:
      return STANDARD_COMMANDS[cmd.kind];
  }
}

/** The argument bytes a command carries on the wire. */
export function commandArgs(cmd: Command): Uint8Array {
  if (cmd.kind === 'custom') return cmd.args ?? new Uint8Array(0);
  if (cmd.kind === 'revoke') return cmd.cascade ? Uint8Array.of(...fromHex(cmd.target), REVOKE_CASCADE) : fromHex(cmd.target);
  if (cmd.kind === 'list-keys' && cmd.page) return Uint8Array.of(cmd.page);
  return new Uint8Array(0);
}

/** Rebuild a command from its wire code and args; undefined when the code/args are not valid. */
export function commandFromWire(code: number, args: Uint8Array): Command | undefined {
  if (code >= CUSTOM_COMMAND_MIN) return args.length ? { kind: 'custom', code, args } : { kind: 'custom', code };
  if (code === ADMIN_COMMANDS.revoke) {
    if (args.length === 9 && args[8] === REVOKE_CASCADE) return { kind: 'revoke', target: toHex(args.subarray(0, 8)), cascade: true };
    return args.length === 8 || args.length === 16 ? { kind: 'revoke', target: toHex(args) } : undefined;
  }
  if (code === ADMIN_COMMANDS['list-keys'] && args.length === 1) return args[0] ? { kind: 'list-keys', page: args[0] } : undefined;
  const names = [...Object.entries(STANDARD_COMMANDS), ...Object.entries(ADMIN_COMMANDS)];
  const name = names.find(([, c]) => c === code)?.[0];
  if (!name || args.length !== 0) return undefined;
  return { kind: name } as Command;
}

/** True when `code` names a command this implementation knows (whatever its args). */
export function isKnownCommandCode(code: number): boolean {
  return code >= CUSTOM_COMMAND_MIN || Object.values(STANDARD_COMMANDS).includes(code as 1) || Object.values(ADMIN_COMMANDS).includes(code as 0x20);
}

/** The permission string for a command: its name, or `custom:<code>`. */
export function commandName(cmd: Command): string {
  return cmd.kind === 'custom' ? `custom:${cmd.code}` : cmd.kind;
}

/** Administrative commands (`list-keys`, `revoke`, `advertising-secret`): handled by the car itself, never by its actuator. */
export function isAdminCommand(cmd: Command): boolean {
  return cmd.kind === 'list-keys' || cmd.kind === 'revoke' || cmd.kind === 'advertising-secret';
}
