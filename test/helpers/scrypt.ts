/** A pairing scrypt profile fast enough for tests (128·r·N = 1 MiB), within PAIRING_SCRYPT_BOUNDS. */
export const FAST_SCRYPT = { log2N: 10, r: 8, p: 1 } as const;
