export { defaultPolicy, DEFAULT_MAX_RTT_MS, type DefaultPolicyOptions } from './default-policy.js';
export { authorizeCommand, checkedDecision, type Authorization, type AuthorizationInput } from './authorize.js';
export type { Policy, PolicyContext, PolicyDecision, VehicleHooks } from './types.js';
