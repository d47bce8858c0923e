/** Plugin package naming, in one place: `edge-collector-<name>` or `@<scope>/edge-collector-<name>`. */

export const PLUGIN_PREFIX = 'edge-collector-';

const PLUGIN_PACKAGE = /^(@[a-z0-9][a-z0-9._~-]*\/)?edge-collector-[a-z0-9][a-z0-9._~-]*$/;

export function isPluginPackageName(name: string): boolean {
  return PLUGIN_PACKAGE.test(name);
}

/**
 * Expands a short plugin reference to its package name: `jetson` → `edge-collector-jetson`,
 * `@acme/meter` → `@acme/edge-collector-meter`; full names are returned as they are.
 */
export function normalizePackageName(reference: string): string {
  if (reference.startsWith('@')) {
    const [scope, rest = ''] = reference.split('/', 2);
    return rest.startsWith(PLUGIN_PREFIX) ? reference : `${scope}/${PLUGIN_PREFIX}${rest}`;
  }
  return reference.startsWith(PLUGIN_PREFIX) ? reference : `${PLUGIN_PREFIX}${reference}`;
}

/** The first-party package serving each device type, for the advice when none is installed. */
const FIRST_PARTY_PACKAGES: Record<string, string> = {
  jetson: 'edge-collector-jetson',
  jetson_orin: 'edge-collector-jetson',
  jetson_xavier: 'edge-collector-jetson',
  jetson_nano: 'edge-collector-jetson',
  jetson_tx2: 'edge-collector-jetson',
  jetson_thor: 'edge-collector-jetson',
  raspberrypi: 'edge-collector-raspberrypi-ina260',
  ina260: 'edge-collector-raspberrypi-ina260',
  orangepi: 'edge-collector-orangepi-sysfs',
  sysfs: 'edge-collector-orangepi-sysfs',
  lattepanda: 'edge-collector-lattepanda-rapl',
  intel_rapl: 'edge-collector-lattepanda-rapl',
  shelly: 'edge-collector-shelly',
};

export function firstPartyPackageFor(deviceType: string): string | undefined {
  return FIRST_PARTY_PACKAGES[deviceType];
}

export function firstPartyDeviceTypes(): string[] {
  return Object.keys(FIRST_PARTY_PACKAGES);
}

/** True for the packages of this repository's plugins, which serve only the device types above. */
export function isFirstPartyPackage(packageName: string): boolean {
  return Object.values(FIRST_PARTY_PACKAGES).includes(packageName);
}
