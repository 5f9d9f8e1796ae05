/**
 * `PhoneStore` in IndexedDB: the phone's cars (and a software identity, if one is used) as the
 * same JSON document `FilePhoneStore` writes, in one record replaced atomically by each `save`.
 */
import { StoreError } from '../../errors.js';
import { STATE_SCHEMA_VERSION, phoneStateFromJson, phoneStateToJson, type PhoneState } from '../../keys/state.js';
import type { PhoneStore } from '../../keys/store.js';
import type { PhoneDatabase } from './indexeddb.js';

const RECORD = 'phone';

/** The part of the Web Locks API (`navigator.locks`) used here. */
interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** The phone's state in the `state` store of a {@link PhoneDatabase}. */
export class IndexedDbPhoneStore implements PhoneStore {
  constructor(readonly database: PhoneDatabase) {}

  /** The saved state; undefined before the first save; `StoreError` for anything unreadable. */
  async load(): Promise<PhoneState | undefined> {
    const record = await this.database.get('state', RECORD);
    if (record === undefined) return undefined;
    if (typeof record !== 'object' || record === null || !('version' in record) || !('state' in record))
      throw new StoreError('ERR_STORE_CORRUPT', 'IndexedDB phone state: not a proxkey record');
    if (record.version !== STATE_SCHEMA_VERSION)
      throw new StoreError(
        'ERR_STORE_VERSION',
        `IndexedDB phone state: schema version ${String(record.version)}, this app reads ${STATE_SCHEMA_VERSION}: update the app`,
      );
    try {
      return phoneStateFromJson(record.state);
    } catch (e) {
      throw new StoreError('ERR_STORE_CORRUPT', `IndexedDB phone state: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Run `work` holding the Web Lock `proxkey-phone-state:<database>` (every tab of this origin
   * asks for the same one), so two tabs never save over each other's change. A browser without
   * the Web Locks API runs it at once.
   */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
    if (!locks) return work();
    return locks.request(`proxkey-phone-state:${this.database.db.name}`, work);
  }

  /** Replace the state in one transaction, durable before it resolves. */
  async save(state: PhoneState): Promise<void> {
    await this.database.put('state', RECORD, { version: STATE_SCHEMA_VERSION, state: phoneStateToJson(state) });
  }
}
