/** Plugin package naming, in one place: `edge-collector-<name>` or `@<scope>/edge-collector-<name>`. */
import { FIRST_PARTY_PACKAGES } from './first-party-plugins';

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

export function firstPartyPackageFor(deviceType: string): string | undefined {
  return Object.hasOwn(FIRST_PARTY_PACKAGES, deviceType) ? FIRST_PARTY_PACKAGES[deviceType] : undefined;
}

export function firstPartyDeviceTypes(): string[] {
  return Object.keys(FIRST_PARTY_PACKAGES);
}

/** True for the packages of this repository's plugins, which serve only the device types above. */
export function isFirstPartyPackage(packageName: string): boolean {
  return Object.values(FIRST_PARTY_PACKAGES).includes(packageName);
}
