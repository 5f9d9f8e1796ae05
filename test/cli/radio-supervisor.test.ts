/**
 * The car daemon's health loop on a fake stack: an adapter that stops answering the HCI probe, or
 * goes poweredOff, is re-opened with a fresh instance (one log line); failed attempts back off
 * and are each logged; after the last one `failed` resolves; a stack that cannot be re-opened in
 * the same process gives up at once. And SIGINT stays ours: a stack's "exit if I am the last
 * SIGINT listener" handler never fires.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { RadioSupervisor } from '../../src/cli/radio-supervisor.js';
import { stopSignal } from '../../src/cli/signals.js';

/** A bleno stand-in whose HCI socket answers Command Complete while `answering`. */
class FakeStack extends EventEmitter {
  answering = true;
  stopped = false;
  readonly socket = Object.assign(new EventEmitter(), {
    write: (packet: Uint8Array) => {
      if (!this.answering) return;
      const [, lo, hi] = packet;
      // 04 0e len ncmd opcode(2) status
      setImmediate(() => this.socket.emit('data', Buffer.from([0x04, 0x0e, 0x04, 0x01, lo!, hi!, 0x00])));
    },
  });
  readonly _bindings = { _hci: { _socket: this.socket } };
  stop() {
    this.stopped = true;
  }
}

function supervised(opts: { failOpens?: number; reuse?: boolean; max?: number; gate?: Promise<void> }) {
  const stacks: FakeStack[] = [];
  const lines: string[] = [];
  let opens = 0;
  const peripherals: { stopped: boolean }[] = [];
  const radio = new RadioSupervisor({
    open: async () => {
      opens++;
      if (opts.reuse && stacks.length) return stacks[0]!;
      if (opens > 1 && opens <= 1 + (opts.failOpens ?? 0)) throw new Error('no adapter yet');
      const s = new FakeStack();
      stacks.push(s);
      if (opens > 1 && opts.gate) await opts.gate;
      return s;
    },
    start: async () => {
      const p = { stopped: false, stop: async () => void (p.stopped = true) };
      peripherals.push(p);
      return p;
    },
    log: (l) => lines.push(l),
    probeIntervalMs: 5,
    probeTimeoutMs: 20,
    initialBackoffMs: 1,
    maxBackoffMs: 4,
    maxRecoveryAttempts: opts.max ?? 3,
  });
  return { radio, stacks, lines, peripherals };
}

const until = async (ok: () => boolean) => {
  while (!ok()) await new Promise((r) => setTimeout(r, 2));
};

describe('RadioSupervisor', () => {
  it('an adapter that stops answering is re-opened with a fresh stack, in one log line', async () => {
    const { radio, stacks, lines, peripherals } = supervised({});
    await radio.start();
    expect(radio.healthy).toBe(true);
    stacks[0]!.answering = false;
    await until(() => lines.length > 0 && radio.healthy);
    expect(lines).toEqual([
      expect.stringMatching(
        /^radio recovered: the Bluetooth adapter stopped answering \(.*\); re-opened the adapter and advertising again \(attempt 1, [\d.]+ s\)$/,
      ),
    ]);
    expect(stacks).toHaveLength(2);
    expect(stacks[0]!.stopped).toBe(true);
    expect(peripherals[0]!.stopped).toBe(true);
    expect(radio.peripheral).toBe(peripherals[1]);
    await radio.stop();
    expect(stacks[1]!.stopped).toBe(true);
  });

  it('poweredOff triggers recovery; failed attempts back off and are logged; it comes back', async () => {
    const { radio, stacks, lines } = supervised({ failOpens: 2 });
    await radio.start();
    stacks[0]!.emit('stateChange', 'poweredOff');
    await until(() => lines.some((l) => l.startsWith('radio recovered')));
    expect(lines).toEqual([
      'radio recovery attempt 1/3 failed: no adapter yet; next in 0 s',
      'radio recovery attempt 2/3 failed: no adapter yet; next in 0 s',
      expect.stringMatching(/^radio recovered: the Bluetooth adapter went poweredOff .*\(attempt 3, /),
    ]);
    await radio.stop();
  });

  it('quiesced (the daemon is stopping): a stalled adapter or poweredOff starts no recovery, and the peripheral stays up until stop()', async () => {
    const { radio, stacks, lines, peripherals } = supervised({});
    await radio.start();
    radio.quiesce();
    stacks[0]!.answering = false;
    stacks[0]!.emit('stateChange', 'poweredOff');
    await new Promise((r) => setTimeout(r, 60)); // a dozen probe intervals
    expect(lines).toEqual([]);
    expect(stacks).toHaveLength(1);
    expect(peripherals[0]!.stopped).toBe(false);
    await radio.stop();
    expect(peripherals[0]!.stopped).toBe(true);
  });

  it('a recovery under way when the daemon stops never brings the radio back', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { radio, stacks, peripherals } = supervised({ gate });
    await radio.start();
    stacks[0]!.emit('stateChange', 'poweredOff');
    await until(() => stacks.length === 2); // the re-open is under way, held at the gate
    await radio.stop();
    release();
    await new Promise((r) => setTimeout(r, 20));
    expect(peripherals).toHaveLength(1); // never started again
    expect(stacks[1]!.stopped).toBe(true); // the adapter it opened is closed again
  });

  it('gives up after the last attempt: failed resolves (the daemon exits 3)', async () => {
    const { radio, stacks, lines } = supervised({ failOpens: 99, max: 2 });
    await radio.start();
    stacks[0]!.answering = false;
    const error = await radio.failed;
    expect(error.message).toMatch(/could not be recovered \(2 attempts failed\)/);
    expect(lines.at(-1)).toMatch(/^radio cannot recover \(2 attempts failed\) from: the Bluetooth adapter stopped answering/);
    await radio.stop();
  });

  it('isolated failed re-advertisements (each retried on air) never add up to a recovery; 3 in a row do', async () => {
    const { radio, stacks, lines } = supervised({});
    await radio.start();
    for (const week of [1, 2, 3]) radio.advertisingFailed(new Error(`rotation failed in week ${week}`), 1);
    radio.advertisingFailed(new Error('again'), 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(stacks).toHaveLength(1);
    expect(lines).toEqual([]);
    radio.advertisingFailed(new Error('still'), 3);
    await until(() => lines.length > 0 && radio.healthy);
    expect(lines).toEqual([expect.stringMatching(/^radio recovered: the controller stopped advertising \(still; 3 failures in a row\)/)]);
    expect(stacks).toHaveLength(2);
    await radio.stop();
  });

  it('a stack that hands back the same instance cannot be re-opened: gives up at once', async () => {
    const { radio, stacks } = supervised({ reuse: true });
    await radio.start();
    stacks[0]!.emit('stateChange', 'poweredOff');
    expect((await radio.failed).message).toMatch(/cannot re-open the adapter in the same process/);
    await radio.stop();
  });
});

describe('stopSignal', () => {
  it('SIGINT resolves stopped, and a stack handler that exits when last never sees itself last', async () => {
    const exits: string[] = [];
    const s = stopSignal(() => exits.push('second'));
    // like bleno: registered after ours, exits if it is the last SIGINT listener
    const stackHandler = () => {
      const all = process.listeners('SIGINT');
      if (all[all.length - 1] === stackHandler) exits.push('stack exit');
    };
    process.on('SIGINT', stackHandler);
    try {
      process.emit('SIGINT', 'SIGINT');
      expect(await s.stopped).toBe('SIGINT');
      process.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual(['second']);
    } finally {
      process.removeListener('SIGINT', stackHandler);
      s.dispose();
    }
  });
});
