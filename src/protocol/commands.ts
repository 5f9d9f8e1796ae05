/**
 * Commands: four standard ones and application-defined custom codes 0x80–0xFF.
 * A permission is the command's name: `unlock`, `lock`, `start`, `trunk`, or `custom:<code>`.
 */
import { LocalError } from '../errors.js';

export const STANDARD_COMMANDS = { unlock: 0x01, lock: 0x02, start: 0x03, trunk: 0x04 } as const;
export type StandardCommand = keyof typeof STANDARD_COMMANDS;

export const CUSTOM_COMMAND_MIN = 0x80;
export const CUSTOM_COMMAND_MAX = 0xff;

/** A command as the API sees it. `args` are opaque app bytes (≤ 64), for custom commands only. */
export type Command =
  | { readonly kind: StandardCommand }
  | { readonly kind: 'custom'; readonly code: number; readonly args?: Uint8Array };

/** Anything accepted where a command is expected: `'unlock'`, `{ kind: 'custom', code: 0x81 }`. */
export type CommandInput = StandardCommand | Command;

export function toCommand(input: CommandInput): Command {
  if (typeof input === 'string') {
    if (!Object.hasOwn(STANDARD_COMMANDS, input)) throw new LocalError('ERR_INVALID_ARGUMENT', `unknown command: ${input}`);
    return { kind: input };
  }
  if (input?.kind === 'custom') {
    const { code } = input;
    if (!Number.isInteger(code) || code < CUSTOM_COMMAND_MIN || code > CUSTOM_COMMAND_MAX)
      throw new LocalError('ERR_INVALID_ARGUMENT', 'custom command code: integer 0x80..0xff');
    return input;
  }
  if (input && Object.hasOwn(STANDARD_COMMANDS, input.kind)) return { kind: input.kind };
  throw new LocalError('ERR_INVALID_ARGUMENT', 'command: expected a command name or { kind, code }');
}

export function commandCode(cmd: Command): number {
  return cmd.kind === 'custom' ? cmd.code : STANDARD_COMMANDS[cmd.kind];
}

/** The permission string for a command: its name, or `custom:<code>`. */
export function commandName(cmd: Command): string {
  return cmd.kind === 'custom' ? `custom:${cmd.code}` : cmd.kind;
}
