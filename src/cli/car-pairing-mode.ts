/** The car daemon's pairing mode: open it (at start, by the button or `proxkey car pair`), show the code, light the LED, say how it ended. */
import { messageOf } from '../errors.js';
import { Gpio } from '../node/gpio.js';
import type { VehicleService } from '../service/vehicle-service.js';
import type { CarConfig } from './config.js';
import { pairingEndText } from './daemon-log.js';
import { showPairing } from './pairing-display.js';
import type { Ui } from './ui.js';

/** How often the daemon looks whether pairing mode has ended (to turn the LED off and say why). */
const PAIRING_WATCH_MS = 250;

/** What opening pairing mode shows: the code, the QR payload, and when it expires. */
export type OpenedPairing = Awaited<ReturnType<VehicleService['openPairing']>>;

/** The daemon's pairing mode. */
export interface PairingController {
  /**
   * Open pairing mode; `by`: who opened it, for the log (the --pair at start goes without saying).
   * `logCode: false` when the opener shows the code itself (`proxkey car pair`): it then stays out
   * of the journal, which more people may read than should pair an owner phone.
   */
  readonly open: (by?: string, options?: { readonly logCode?: boolean }) => Promise<OpenedPairing>;
  /** Watch the configured pairing button; resolves with the function that stops watching (undefined without a button). */
  readonly button: () => Promise<(() => void) | undefined>;
  /** Stop watching pairing mode and release the LED. */
  readonly stop: () => void;
}

/** Pairing mode: open it, show the code (in the daemon's log unless its opener shows it), light the LED, and say in one line how it ended. */
export function pairingController(car: VehicleService, c: CarConfig, ui: Ui, scryptLog2N: number | undefined): PairingController {
  const gpio = new Gpio();
  const ttlSeconds = c.pairingTtlSeconds ?? 120;
  let led: { release(): void } | undefined;
  let watch: ReturnType<typeof setInterval> | undefined;
  const setLed = async (on: boolean) => {
    if (!c.statusLed) return;
    led?.release();
    led = await gpio.hold(c.statusLed, on).catch(() => undefined);
  };
  const watchUntilClosed = () => {
    const status = car.pairingStatus;
    // `claimed`: a phone proved the code and its enrollment is being written; it ends `paired`, or
    // the claim is released (the write failed) and pairing mode is open again: keep watching.
    if (status === 'active' || status === 'claimed') return;
    const end = pairingEndText(status, ttlSeconds);
    clearInterval(watch);
    watch = undefined;
    void setLed(false);
    if (end) ui.result({ event: 'pairing-closed', status }, end);
  };
  const open = async (by?: string, { logCode = true }: { readonly logCode?: boolean } = {}) => {
    const p = await car.openPairing({ ttlMs: ttlSeconds * 1000, ...(scryptLog2N && { scrypt: { log2N: scryptLog2N, r: 8, p: 1 } }) });
    await setLed(true);
    if (watch) clearInterval(watch);
    watch = setInterval(watchUntilClosed, PAIRING_WATCH_MS);
    watch.unref();
    if (!logCode) {
      ui.result(
        { event: 'pairing', expiresAt: p.expiresAt },
        `pairing mode opened by ${by ?? 'a command'} for ${ttlSeconds} s (its code was shown there only)`,
      );
      return p;
    }
    if (by) ui.info(`pairing mode opened by ${by}`);
    await showPairing(ui, p); // the button and --pair have no other screen than the daemon's log
    return p;
  };
  const onButton = () => void open('the pairing button').catch((e: unknown) => ui.info(`  pairing mode: ${messageOf(e)}`));
  const button = async () => (c.pairingButton ? gpio.watchButton(c.pairingButton, onButton) : undefined);
  const stop = () => {
    if (watch) clearInterval(watch);
    led?.release();
  };
  return { open, button, stop };
}
