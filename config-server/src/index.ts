export {
  createConfigServer,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_MAX_WAIT_SECONDS,
  DEFAULT_OFFLINE_AFTER_SECONDS,
  DEFAULT_SESSION_TTL_SECONDS,
  type ConfigServer,
  type ConfigServerOptions,
} from './server';
export type { ConsoleRoots } from './console-assets';
export { ConfigServerError, type ConfigServerErrorCode } from './errors';
export { parseDeviceTokens } from './tokens';
export { deviceIdProblem } from './device-id';
export type { StatusReport } from './bodies';
export type { ApplyState, ChangeSource, ConfigVersion, DeviceSummary } from './store';
export { SqliteStore } from './store';
export type { LayerBody, LayerKey, LayerVersion, RolloutPlan, RolloutState, Store } from './store-api';
