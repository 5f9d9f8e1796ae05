#!/usr/bin/env node
/**
 * `proxkey` — the command line for people who do not write code: a phone (pair, unlock, share…)
 * and a car (serve, pair, keys, audit). Human output by default, `--json` for scripts. Every
 * failure prints one line saying what to do, and exits non-zero (1: failed or denied, 2: usage).
 *
 * One concept per module: `arguments.ts` (the options, parsed by Node's `util.parseArgs`, and each
 * command's arguments), `commands.ts` (what each command runs), `help.ts` (the command list and
 * texts); this module picks the command, checks its arity, and turns a failure into one line.
 */
import { messageOf } from '../errors.js';
import { BleUnavailableError } from '../adapters/common.js';
import { parse, radio, UsageError, type Values } from './arguments.js';
import { COMMAND_RUNS } from './commands.js';
import { bluetoothProblem } from './doctor.js';
import { COMMANDS, carHelp, commandHelp, mainHelp, type CommandHelp } from './help.js';
import { createUi, describeError, type Ui } from './ui.js';

export { COMMANDS } from './help.js';

/** What the positionals ask for: a help text (with its exit code), an unknown command, or a command with its arguments. */
type Chosen =
  | { readonly kind: 'help'; readonly text: string; readonly exitCode: number }
  | { readonly kind: 'unknown'; readonly words: string }
  | { readonly kind: 'command'; readonly name: string; readonly help: CommandHelp; readonly args: readonly string[] };

/** The command named by the positionals (`car` takes a second word). */
function chooseCommand(pos: readonly string[], wantsHelp: boolean): Chosen {
  const helpExit = wantsHelp ? 0 : 2;
  if (pos[0] === 'car' && !pos[1]) return { kind: 'help', text: carHelp(), exitCode: helpExit };
  const name = pos[0] === 'car' ? `car ${pos[1]}` : pos[0];
  if (!name) return { kind: 'help', text: mainHelp(), exitCode: helpExit };
  const help = COMMANDS[name];
  if (!help) return { kind: 'unknown', words: pos.join(' ') };
  if (wantsHelp) return { kind: 'help', text: commandHelp(name), exitCode: 0 };
  return { kind: 'command', name, help, args: name.startsWith('car ') ? pos.slice(2) : pos.slice(1) };
}

/** More positionals than the command takes is a usage error naming the extra ones. */
function assertArity(args: readonly string[], help: CommandHelp): void {
  if (args.length <= help.maxArgs) return;
  const extra = args.slice(help.maxArgs);
  throw new UsageError(`unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((x) => `"${x}"`).join(' ')}: usage: proxkey ${help.usage}`);
}

/** One line for a failure; Bluetooth failures say which of the machine's causes applies. */
function failureLine(e: unknown, name: string, v: Values): ReturnType<typeof describeError> {
  if (!(e instanceof BleUnavailableError)) return describeError(e);
  const problem = bluetoothProblem(name.startsWith('car ') ? 'car' : 'phone', radio(v));
  // nothing on this machine explains it: the stack's own words, without its generic hint
  const own = e.message.slice(0, e.message.length - e.hint.length).trim();
  return { code: e.code, message: `Bluetooth unavailable: ${problem ?? own} (\`proxkey doctor\` checks everything)` };
}

/** Print a command's failure (usage: exit code 2; anything else: 1, and a JSON line with --json). */
function reportFailure(e: unknown, name: string, v: Values, ui: Ui): number {
  if (e instanceof UsageError) {
    process.stderr.write(`error: ${e.message} (see proxkey ${name} --help)\n`);
    return 2;
  }
  const { code, message, mayHaveSucceeded } = failureLine(e, name, v);
  if (ui.json) process.stdout.write(`${JSON.stringify({ ok: false, code, error: message, ...(mayHaveSucceeded && { mayHaveSucceeded }) })}\n`);
  process.stderr.write(`error: ${message}\n`);
  return 1;
}

/**
 * Run one `proxkey` command line (without `node` and the script).
 * @param argv the arguments, e.g. `['unlock', '--car', 'home']`.
 * @returns the exit code: 0 done, 1 failed or denied, 2 usage (or help asked for without `--help`), 3 a car daemon whose radio was lost.
 */
export async function run(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (e) {
    process.stderr.write(`error: ${messageOf(e)} (see proxkey --help)\n`);
    return 2;
  }
  const { values: v, positionals: pos } = parsed;
  const ui = createUi(!!v.json);
  const chosen = chooseCommand(pos, v.help === true);
  if (chosen.kind === 'help') {
    process.stdout.write(chosen.text);
    return chosen.exitCode;
  }
  if (chosen.kind === 'unknown') {
    process.stderr.write(`error: unknown command "${chosen.words}" (see proxkey --help)\n`);
    return 2;
  }
  const { name, help, args } = chosen;
  try {
    assertArity(args, help);
    const runCommand = COMMAND_RUNS[name];
    if (!runCommand) throw new UsageError(`unknown command "${name}"`);
    return await runCommand(args, v, ui);
  } catch (e) {
    return reportFailure(e, name, v, ui);
  }
}

// Run when executed directly (bin or tsx), not when imported by tests.
const invoked = process.argv[1] ?? '';
if (/(?:^|[/\\])(?:main\.(?:ts|js|cjs|mjs)|cli\.(?:js|cjs|mjs)|proxkey)$/.test(invoked)) {
  // The BLE stacks print their own warnings with console.*: keep the CLI's output to its one line
  // per result or error unless PROXKEY_DEBUG is set.
  if (!process.env.PROXKEY_DEBUG) console.log = console.warn = console.info = () => undefined;
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`error: ${describeError(e).message}\n`);
      process.exit(1);
    },
  );
}
