/**
 * Durable stores. Implementations must make `save` atomic and durable (old or new state after any
 * crash, never a mix) and `appendAudit` durable before resolving; `load` must detect corruption
 * (`StoreError`) rather than return an empty state. `MemoryVehicleStore`/`MemoryPhoneStore` are
 * the in-memory versions; the file versions live in `proxkey/node`.
 */
import type { AuditEntry, PhoneState, VehicleState } from './state.js';

/** Where the car's state lives (a file on the car, memory in tests): load and save it, append to and read the audit log. */
export interface VehicleStore {
  /** The saved state, or undefined if nothing was ever saved. */
  load(): Promise<VehicleState | undefined>;
  save(state: VehicleState): Promise<void>;
  appendAudit(entry: AuditEntry): Promise<void>;
  readAudit(): Promise<AuditEntry[]>;
}

/** Where the phone's state (its cars) lives. */
export interface PhoneStore {
  load(): Promise<PhoneState | undefined>;
  save(state: PhoneState): Promise<void>;
  /**
   * Optional: run `work` as the only writer of this store among every process or tab that shares
   * it (a lock file, the Web Locks API). The wallet loads, changes and saves inside it, so two
   * writers never save over each other's change. Without it, one writer per store is assumed.
   */
  exclusive?<T>(work: () => Promise<T>): Promise<T>;
}

/** A `VehicleStore` in memory: for tests, the demo and simulations. */
export class MemoryVehicleStore implements VehicleStore {
  #state: VehicleState | undefined;
  #audit: AuditEntry[] = [];
  async load() {
    return this.#state;
  }
  async save(state: VehicleState) {
    this.#state = state;
  }
  async appendAudit(entry: AuditEntry) {
    this.#audit.push(Object.freeze({ ...entry }));
  }
  async readAudit() {
    return [...this.#audit];
  }
}

/** A `PhoneStore` in memory: for tests, the demo and simulations. */
export class MemoryPhoneStore implements PhoneStore {
  #state: PhoneState | undefined;
  async load() {
    return this.#state;
  }
  async save(state: PhoneState) {
    this.#state = state;
  }
}
