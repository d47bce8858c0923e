/**
 * Parsers for the Raspberry Pi's sysfs files, kept apart from reading them.
 */

/** A thermal zone's `temp`: an integer in millidegrees Celsius (Linux Documentation/driver-api/thermal/sysfs-api). */
export function parseMillidegreesCelsius(text: string, path: string): number {
  const trimmed = text.trim();
  // A whole number too large to hold exactly is no temperature either (it would come out as Infinity).
  if (!/^-?\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    throw new Error(`${path} holds ${JSON.stringify(trimmed)}, not millidegrees Celsius`);
  }
  return Number(trimmed) / 1000;
}

/** The device tree's `model` property is a NUL-terminated string, e.g. `Raspberry Pi 4 Model B Rev 1.5`. */
export function parseDeviceTreeModel(text: string): string {
  return text.replace(/\0+$/, '').trim();
}

export function isRaspberryPiModel(model: string): boolean {
  return model.startsWith('Raspberry Pi');
}
