/**
 * The app's phone: a `PhoneWallet` over IndexedDB with a non-extractable WebCrypto key, and one
 * Web Bluetooth connection per action. The device picked in the chooser is kept for the page's
 * lifetime, so later actions reconnect without the chooser; a failed connect forgets it (the next
 * tap shows the chooser again).
 */
import {
  PhoneWallet,
  decodeKeyList,
  KEYS_PER_PAGE,
  parsePairingPayload,
  type CarRecord,
  type CommandInput,
  type CommandResult,
  type KeyListEntry,
  webCryptoProvider,
} from '../../../src/index.js';
import {
  IndexedDbPhoneStore,
  connectToCar,
  openPhoneDatabase,
  webCryptoIdentity,
  type BluetoothDeviceLike,
  type BluetoothLike,
  type WebCarLink,
  type WebCryptoIdentity,
} from '../../../src/adapters/web-bluetooth/index.js';

const COMMAND_TIMEOUT_MS = 8000;

export class PhoneApp {
  #device: BluetoothDeviceLike | undefined;

  private constructor(
    readonly wallet: PhoneWallet,
    readonly identity: WebCryptoIdentity,
    readonly bluetooth: BluetoothLike | undefined,
  ) {}

  /** `onError`: failures that belong to no action's answer (a save that failed after the car answered). */
  static async open(bluetooth: BluetoothLike | undefined, onError: (e: Error) => void = () => undefined): Promise<PhoneApp> {
    const db = await openPhoneDatabase();
    const identity = await webCryptoIdentity(db);
    const wallet = await PhoneWallet.open({
      // the browser's own P-256 and AES-GCM (faster than pure JS on a phone); @noble for the rest
      crypto: webCryptoProvider(),
      store: new IndexedDbPhoneStore(db),
      identity: identity.custody,
      signingKey: identity.signingKey,
      label: 'web phone',
      onError,
    });
    return new PhoneApp(wallet, identity, bluetooth);
  }

  /** Run `work` on a fresh connection to the car, closing it afterwards. */
  async #withCar<T>(work: (link: WebCarLink) => Promise<T>): Promise<T> {
    let link: WebCarLink;
    try {
      link = await connectToCar({ bluetooth: this.bluetooth, ...(this.#device && { device: this.#device }) });
    } catch (e) {
      // Forget the car: the next tap shows the chooser (not now: the tap's user activation may
      // have expired while the connect attempt ran, and the browser would refuse the chooser).
      this.#device = undefined;
      throw e;
    }
    this.#device = link.device;
    try {
      return await work(link);
    } finally {
      link.close('done');
      await link.disconnected;
    }
  }

  /** Pair with the code the car shows (or its `proxkey://pair?…` payload). */
  pair(codeOrPayload: string): Promise<CarRecord> {
    const t = codeOrPayload.trim();
    const code = t.startsWith('proxkey://') ? parsePairingPayload(t).code : t;
    if (!/^\d{8}$/.test(code)) throw new Error(`"${code}" is not an 8-digit pairing code`);
    return this.#withCar((link) => this.wallet.pair(link, code, { timeoutMs: 30_000 }));
  }

  command(car: string, command: CommandInput, intent = false): Promise<CommandResult> {
    return this.#withCar((link) => this.wallet.command(link, command, { car, intent, timeoutMs: COMMAND_TIMEOUT_MS }));
  }

  /** The car's keys (every page: 23 a page, `total` saturating at 255), or the denial. */
  async listKeys(car: string): Promise<{ readonly keys: readonly KeyListEntry[] } | { readonly denied: CommandResult }> {
    const keys: KeyListEntry[] = [];
    for (let page = 0; page <= 255; page++) {
      const r = await this.command(car, page === 0 ? 'list-keys' : { kind: 'list-keys', page });
      if (!r.ok) return { denied: r };
      const list = decodeKeyList(r.data);
      if (list.page !== page || list.entries.some((e) => keys.some((k) => k.id === e.id))) break; // a car that does not page
      keys.push(...list.entries);
      if (list.entries.length < KEYS_PER_PAGE || (keys.length >= list.total && list.total < 255)) break;
    }
    return { keys };
  }
}
