import { configSchema } from '@edge-metrics/core/plugin';

/** Patterns read from core's config schema, so that the server accepts exactly the names a config may hold. */
const properties = configSchema.properties as Record<string, { pattern: string }>;

/** 1 to 64 letters, digits, '.', '_' or '-'. */
export const DEVICE_ID_PATTERN = new RegExp(properties.device_id.pattern);

/** e.g. `jetson_orin`. */
export const DEVICE_TYPE_PATTERN = new RegExp(properties.device_type.pattern);
