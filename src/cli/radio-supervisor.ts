/**
 * The car daemon's health loop: keeps the Bluetooth side alive for weeks. It notices
 *
 * - an adapter that stopped answering (a periodic HCI Read BD_ADDR gets no Command Complete),
 * - a stack that went quiet or lost its adapter (bleno's state leaves `poweredOn`),
 * - a controller that stopped advertising (re-advertising failed several times in a row),
 *
 * and recovers by re-opening the adapter with a fresh bleno instance and advertising again, with
 * bounded back-off (1 s doubling to 30 s). Each recovery is one log line; when recovery is
 * impossible (`maxRecoveryAttempts` failed, or the stack cannot be re-opened) `failed` resolves
 * and the daemon exits non-zero so that systemd restarts it.
 */
import { messageOf } from '../errors.js';
import type { CarPeripheral } from '../adapters/bleno/index.js';
import { rawHci } from '../adapters/bleno/hci-privacy.js';
import type { Emitter } from '../adapters/common.js';
import { withDeadline } from '../transport/deadline.js';

/** HCI Read BD_ADDR (OGF 0x04, OCF 0x0009): harmless, answered by every controller. */
const HCI_READ_BD_ADDR = 0x1009;
/** Consecutive failed re-advertisements that count as "the controller stopped advertising". */
const MAX_ADVERTISING_FAILURES = 3;
/** Bound on stopping the car peripheral (shutdown's budget counts it). */
export const STOP_TIMEOUT_MS = 5_000;

/** What the supervisor needs of a stack (bleno): its state events and a way to close it. */
export interface SupervisedStack extends Emitter {
  stop?(): void;
}

/** What it needs of the car peripheral started on it. */
export type SupervisedPeripheral = Pick<CarPeripheral, 'stop'>;

export interface RadioSupervisorOptions<S extends SupervisedStack, P extends SupervisedPeripheral> {
  /** A fresh bleno instance bound to the configured adapter. */
  open(): Promise<S>;
  /** Start the car's peripheral on it (advertise, serve phones); report failed re-advertisements to `health`. */
  start(bleno: S, health: { advertisingFailed(error: Error, consecutiveFailures: number): void }): Promise<P>;
  /** One line per recovery, failed attempt or give-up. */
  log(line: string): void;
  /** Called with each health change (for systemd's status line and watchdog). */
  onHealth?(healthy: boolean, detail: string): void;
  /** Default 10 000 ms. */
  readonly probeIntervalMs?: number;
  /** How long the adapter has to answer a probe. Default 3 000 ms. */
  readonly probeTimeoutMs?: number;
  /** Default 10. */
  readonly maxRecoveryAttempts?: number;
  /** First back-off (ms), doubled per failed attempt up to `maxBackoffMs`. Defaults 1 000 / 30 000. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export class RadioSupervisor<S extends SupervisedStack, P extends SupervisedPeripheral> {
  readonly #options: RadioSupervisorOptions<S, P>;
  readonly #stop = new AbortController();
  #bleno: S | undefined;
  #peripheral: P | undefined;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #recovering = false;
  /** `quiesce()` or `stop()` was called: no probes, no recoveries. */
  #quiet = false;
  #healthy = false;
  #detach: () => void = () => undefined;
  #fail!: (e: Error) => void;
  /** Resolves (never rejects) with the reason when recovery is impossible. */
  readonly failed: Promise<Error>;

  constructor(options: RadioSupervisorOptions<S, P>) {
    this.#options = options;
    this.failed = new Promise((resolve) => (this.#fail = resolve));
  }

  get peripheral(): P | undefined {
    return this.#peripheral;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** The first start: open the adapter and advertise. Throws what went wrong (nothing to recover yet). */
  async start(): Promise<P> {
    const bleno = await this.#options.open();
    const peripheral = await this.#bring(bleno);
    this.#setHealthy(true, 'advertising');
    this.#scheduleProbe();
    return peripheral;
  }

  /**
   * Report a failed re-advertisement (the peripheral's `onAdvertisingError`) with the advertiser's
   * count of failures in a row (reset by each re-advertisement that went on air): isolated
   * failures weeks apart never add up to a recovery.
   */
  advertisingFailed(error: Error, consecutiveFailures: number): void {
    if (consecutiveFailures >= MAX_ADVERTISING_FAILURES)
      this.#trouble(`the controller stopped advertising (${error.message}; ${consecutiveFailures} failures in a row)`);
  }

  /**
   * The daemon is stopping: no more probes, and no recovery from now on (one would tear the
   * peripheral down and drop the phones whose RESULT the shutdown waits for). The radio stays up
   * until `stop()`. Idempotent.
   */
  quiesce(): void {
    this.#quiet = true;
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
  }

  /** Stop probing and stop the peripheral (idempotent). */
  async stop(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#quiet = true;
    this.#stop.abort();
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    await this.#teardown();
  }

  async #bring(bleno: S): Promise<P> {
    this.#bleno = bleno;
    const onState = (state: string) => {
      if (state !== 'poweredOn') this.#trouble(`the Bluetooth adapter went ${state} (its controller, USB or serial link is gone or was reset)`);
    };
    bleno.on('stateChange', onState);
    this.#detach = () => bleno.removeListener('stateChange', onState);
    this.#peripheral = await this.#options.start(bleno, this);
    return this.#peripheral;
  }

  async #teardown(): Promise<void> {
    this.#detach();
    const peripheral = this.#peripheral;
    const bleno = this.#bleno;
    this.#peripheral = undefined;
    this.#bleno = undefined;
    if (peripheral) await withDeadline('stop the car peripheral', peripheral.stop(), { timeoutMs: STOP_TIMEOUT_MS }).catch(() => undefined);
    try {
      bleno?.stop?.(); // closes its HCI socket or serial port, removes its signal handlers
    } catch {
      /* the adapter is already gone */
    }
  }

  #scheduleProbe(): void {
    if (this.#quiet) return;
    this.#probeTimer = setTimeout(() => void this.#probe(), this.#options.probeIntervalMs ?? 10_000);
    this.#probeTimer.unref?.();
  }

  async #probe(): Promise<void> {
    const hci = this.#bleno && rawHci(this.#bleno);
    if (hci && !this.#recovering) {
      try {
        await hci.command(HCI_READ_BD_ADDR, new Uint8Array(0), this.#options.probeTimeoutMs ?? 3_000);
        this.#setHealthy(true, 'advertising');
      } catch (e) {
        this.#trouble(`the Bluetooth adapter stopped answering (${messageOf(e)})`);
      }
    }
    this.#scheduleProbe();
  }

  #setHealthy(healthy: boolean, detail: string): void {
    this.#healthy = healthy;
    this.#options.onHealth?.(healthy, detail);
  }

  #trouble(cause: string): void {
    if (this.#recovering || this.#quiet) return;
    this.#recovering = true;
    this.#setHealthy(false, `recovering: ${cause}`);
    void this.#recover(cause).finally(() => (this.#recovering = false));
  }

  async #recover(cause: string): Promise<void> {
    const t0 = performance.now();
    const previous = this.#bleno;
    await this.#teardown();
    const max = this.#options.maxRecoveryAttempts ?? 10;
    let backoff = this.#options.initialBackoffMs ?? 1_000;
    for (let attempt = 1; attempt <= max; attempt++) {
      await sleep(backoff, this.#stop.signal);
      if (this.#stop.signal.aborted) return;
      try {
        const bleno = await this.#options.open();
        if (this.#quiet) return void bleno.stop?.(); // stopped meanwhile: never advertise again
        if (bleno === previous) return this.#giveUp(cause, 'this bleno package cannot re-open the adapter in the same process');
        await this.#bring(bleno);
        const s = ((performance.now() - t0) / 1000).toFixed(1);
        this.#options.log(`radio recovered: ${cause}; re-opened the adapter and advertising again (attempt ${attempt}, ${s} s)`);
        this.#setHealthy(true, 'advertising');
        return;
      } catch (e) {
        await this.#teardown();
        backoff = Math.min(backoff * 2, this.#options.maxBackoffMs ?? 30_000);
        this.#options.log(
          `radio recovery attempt ${attempt}/${max} failed: ${messageOf(e)}${attempt < max ? `; next in ${Math.round(backoff / 1000)} s` : ''}`,
        );
      }
    }
    this.#giveUp(cause, `${max} attempts failed`);
  }

  #giveUp(cause: string, why: string): void {
    this.#options.log(`radio cannot recover (${why}) from: ${cause}; exiting so that systemd restarts the daemon`);
    this.#fail(new Error(`the Bluetooth adapter could not be recovered (${why})`));
  }
}
