export { defaultPolicy, DEFAULT_MAX_RTT_MS, type DefaultPolicyOptions } from './default-policy.js';
