export { VehicleService, type VehicleServiceOptions } from './vehicle-service.js';
export { PhoneWallet, type CarCommandOptions, type PhoneWalletOptions, type ShareOptions, type WaitOptions } from './phone-wallet.js';
export type { PassiveEntryResult } from './passive-entry.js';
