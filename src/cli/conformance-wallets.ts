/** The runner's own phones: in memory, fresh for every run (nothing of a conformance run is saved). */
import { EMPTY_PHONE_STATE, type CarRecord } from '../keys/state.js';
import { MemoryPhoneStore } from '../keys/store.js';
import { nodeCrypto } from '../node/node-crypto.js';
import { PhoneWallet } from '../service/phone-wallet.js';

export type { CarRecord };

/** A phone with a new key that knows no car. */
export function freshPhone(label = 'conformance'): Promise<PhoneWallet> {
  return PhoneWallet.open({ store: new MemoryPhoneStore(), crypto: nodeCrypto, label });
}

/** A phone with a new key that knows `car` (pins its key) without the car knowing the phone. */
export async function phoneKnowing(car: CarRecord): Promise<PhoneWallet> {
  const store = new MemoryPhoneStore();
  await store.save({ ...EMPTY_PHONE_STATE, cars: [car] });
  return PhoneWallet.open({ store, crypto: nodeCrypto, label: 'stranger' });
}
