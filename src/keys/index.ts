export { MemoryKeyStore, type EnrollOptions } from './memory-key-store.js';
