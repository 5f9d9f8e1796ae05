/**
 * A small, bounded promise layer over IndexedDB for the browser phone: one database with a `state`
 * store (the phone's cars, `IndexedDbPhoneStore`) and a `keys` store (its WebCrypto keys,
 * `webCryptoIdentity`). Every request has a timeout; failures are `StoreError`s.
 */
import { StoreError, TimeoutError } from '../../errors.js';
import { withDeadline } from '../../transport/deadline.js';

/** The IndexedDB database the browser phone uses unless told otherwise. */
export const DEFAULT_PHONE_DATABASE = 'proxkey-phone';
const DB_VERSION = 1;
const STORES = ['state', 'keys'] as const;
/** The object stores of the phone's database: `state` (its cars) and `keys` (its WebCrypto keys). */
export type PhoneObjectStore = (typeof STORES)[number];

/** Options of `openPhoneDatabase`: the database name, the `indexedDB` factory (or a fake), the request timeout. */
export interface PhoneDatabaseOptions {
  /** Database name (default `proxkey-phone`). One per phone identity. */
  readonly name?: string;
  /** Default `globalThis.indexedDB`. */
  readonly indexedDB?: IDBFactory;
  /** Bound on opening and on every transaction (default 5000 ms). */
  readonly timeoutMs?: number;
}

function storeFailure(what: string, e: unknown): StoreError {
  const detail = e instanceof Error || (typeof DOMException !== 'undefined' && e instanceof DOMException) ? e.message : String(e);
  return new StoreError('ERR_STORE_CORRUPT', `IndexedDB ${what} failed: ${detail}`, { cause: e });
}

/** The phone's IndexedDB database. Open it with {@link openPhoneDatabase}. */
export class PhoneDatabase {
  constructor(
    readonly db: IDBDatabase,
    readonly timeoutMs: number,
  ) {}

  /** The value at `key` in `store`, or undefined. */
  get(store: PhoneObjectStore, key: string): Promise<unknown> {
    return this.#run(store, 'readonly', (s) => s.get(key));
  }

  /** Replace the value at `key`: atomic, and durable ('strict') before it resolves. */
  async put(store: PhoneObjectStore, key: string, value: unknown): Promise<void> {
    await this.#run(store, 'readwrite', (s) => s.put(value, key));
  }

  /** Add a value at `key`; resolves false (nothing written) when `key` already exists. */
  async add(store: PhoneObjectStore, key: string, value: unknown): Promise<boolean> {
    try {
      await this.#run(store, 'readwrite', (s) => s.add(value, key));
      return true;
    } catch (e) {
      if (e instanceof StoreError && e.cause instanceof DOMException && e.cause.name === 'ConstraintError') return false;
      throw e;
    }
  }

  async delete(store: PhoneObjectStore, key: string): Promise<void> {
    await this.#run(store, 'readwrite', (s) => s.delete(key));
  }

  close(): void {
    this.db.close();
  }

  /**
   * One request in its own transaction, bounded by `timeoutMs`. At the bound the transaction is
   * aborted, so a rejection means nothing was written; one that is already committing cannot be
   * aborted, and its real outcome is awaited instead, for another `timeoutMs` at most — then a
   * `TimeoutError` saying it may still be written (the wallet loads the state again before its
   * next change; `mayHaveSucceeded` stays about the car, so it is not set).
   */
  #run(store: PhoneObjectStore, mode: IDBTransactionMode, request: (s: IDBObjectStore) => IDBRequest): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        tx = this.db.transaction(store, mode, { durability: 'strict' });
      } catch (e) {
        reject(storeFailure(`${store} transaction`, e));
        return;
      }
      let req: IDBRequest;
      try {
        req = request(tx.objectStore(store)); // throws at once for a value it cannot store (DataCloneError)
      } catch (e) {
        tx.abort();
        reject(storeFailure(`${mode} ${store}`, e));
        return;
      }
      let timedOut = false;
      let timer = setTimeout(() => {
        try {
          tx.abort(); // onabort reports the timeout
          timedOut = true;
        } catch {
          // Committing: its oncomplete or onabort comes — within a second bound, else the caller
          // is told it may have been written (a stuck commit must not hold the wallet's lock forever).
          const what = `IndexedDB ${mode} ${store} (committing: it may still be written)`;
          timer = setTimeout(() => reject(new TimeoutError(what, 2 * this.timeoutMs)), this.timeoutMs);
        }
      }, this.timeoutMs);
      tx.oncomplete = () => {
        clearTimeout(timer);
        resolve(req.result);
      };
      // a failed request aborts its transaction (nothing written): reported once, here
      tx.onabort = () => {
        clearTimeout(timer);
        if (timedOut) reject(new TimeoutError(`IndexedDB ${mode} ${store}`, this.timeoutMs));
        else reject(storeFailure(`${mode} ${store}`, req.error ?? tx.error));
      };
    });
  }
}

/** Open (creating on first use) the phone's database. `StoreError` if IndexedDB is unavailable or blocked. */
export async function openPhoneDatabase(options: PhoneDatabaseOptions = {}): Promise<PhoneDatabase> {
  const factory = options.indexedDB ?? globalThis.indexedDB;
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!factory) throw new StoreError('ERR_STORE_CORRUPT', 'IndexedDB is not available in this browser (private mode may disable it)');
  const name = options.name ?? DEFAULT_PHONE_DATABASE;
  const work = new Promise<IDBDatabase>((resolve, reject) => {
    const req = factory.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      for (const s of STORES) if (!req.result.objectStoreNames.contains(s)) req.result.createObjectStore(s);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(storeFailure(`open ${name}`, req.error));
    req.onblocked = () =>
      reject(new StoreError('ERR_STORE_VERSION', `IndexedDB ${name} is held open by an older version of this app in another tab: close it`));
  });
  const db = await withDeadline(`IndexedDB open ${name}`, work, { timeoutMs });
  return new PhoneDatabase(db, timeoutMs);
}
