/**
 * Proximity: passive entry from RSSI (filter → distance → zones → decisions) and calibration.
 * Pure, clock injected; see docs/PROXIMITY.md.
 */
export { mad, median } from './robust-stats.js';
export { DEFAULT_PATH_LOSS, MAX_DISTANCE_M, MIN_DISTANCE_M, distanceToRssi, rssiToDistance, type PathLossModel } from './path-loss.js';
export { calibratePathLoss, calibrateTxPower, MIN_CALIBRATION_SAMPLES, NOISY_SPREAD_DB, type CalibrationPoint } from './calibration.js';
export { DEFAULT_FILTER, RssiFilter, isValidRssi, type RssiFilterOptions } from './rssi-filter.js';
export { DEFAULT_ZONES, ZONE_RANK, ZoneTracker, candidateZone, type Zone, type ZoneChange, type ZoneOptions } from './zones.js';
export { DEFAULT_PASSIVE_ENTRY, PresenceTracker, type DecisionCause, type PassiveEntryOptions, type PresenceChange, type SignalLoss } from './passive-entry.js';
export {
  DEFAULT_STALE_AFTER_MS,
  ProximityEngine,
  type KeyProximitySettings,
  type KeyProximityState,
  type ProximityDecision,
  type ProximityEngineOptions,
  type ProximityEvent,
  type ZoneEvent,
} from './engine.js';
