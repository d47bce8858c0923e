/**
 * Pure parsing of RAPL powercap zones: the directory names and the text of `name`, `energy_uj` and
 * `max_energy_range_uj`, as the kernel's powercap framework lays them out under `/sys/class/powercap`.
 */

/** A zone directory: `intel-rapl:N` (a package or the platform `psys`) or a subzone `intel-rapl:N:M`. */
const ZONE_DIR = /^intel-rapl((?::\d+)+)$/;

/** The text of one zone's files, as read; a counter that could not be read is undefined. */
export interface ZoneFiles {
  /** The directory name, e.g. `intel-rapl:0:1`. */
  dir: string;
  name: string;
  energyUj?: string;
  maxEnergyRangeUj?: string;
}

/** One zone with its readings in micro-joules and the labels its series carry. */
export interface RaplZone {
  dir: string;
  /** The zone name as the kernel gives it: `package-0`, `core`, `uncore`, `dram`, `psys`. */
  zone: string;
  /** The name of the top-level zone this zone belongs to (`package-0`, or `psys` for the platform zone). */
  package: string;
  /** True for `intel-rapl:N`, false for a subzone. */
  topLevel: boolean;
  energyUj: number;
  /** The value at which `energy_uj` wraps around to zero. */
  maxEnergyRangeUj: number;
}

/** A file whose text is not what the kernel writes there. */
export interface ZoneProblem {
  file: string;
  message: string;
}

/** True for `intel-rapl:N` and `intel-rapl:N:M`; false for `intel-rapl` itself and `intel-rapl-mmio:N`. */
export function isZoneDir(entry: string): boolean {
  return ZONE_DIR.test(entry);
}

/** The directory of the top-level zone that `dir` belongs to: `intel-rapl:0:1` → `intel-rapl:0`. */
export function topLevelDir(dir: string): string {
  const [control, index] = dir.split(':');
  return `${control}:${index}`;
}

/** A sysfs counter in micro-units, or undefined when the text is not a whole number. */
export function parseMicroUnits(text: string): number | undefined {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return /^\d+$/.test(trimmed) && Number.isSafeInteger(value) ? value : undefined;
}

/**
 * Turns the files of every zone into zones labelled with their package, in directory order. `where` maps a
 * zone directory and file name to the path named in problems. A zone whose files hold no number is left out
 * and reported as a problem, so that one bad file never hides the other zones; a zone whose counter could not
 * be read is left out silently (reading it reported why), but its name still labels its subzones.
 */
export function parseZones(
  all: readonly ZoneFiles[],
  where: (dir: string, file: string) => string,
): { zones: RaplZone[]; problems: ZoneProblem[] } {
  const names = new Map(all.map((files) => [files.dir, files.name.trim()]));
  const zones: RaplZone[] = [];
  const problems: ZoneProblem[] = [];
  for (const files of [...all].sort((a, b) => compareDirs(a.dir, b.dir))) {
    const parsed = parseZone(files, names, where);
    if (parsed === undefined) continue;
    if ('message' in parsed) problems.push(parsed);
    else zones.push(parsed);
  }
  return { zones, problems };
}

function parseZone(
  files: ZoneFiles,
  names: ReadonlyMap<string, string>,
  where: (dir: string, file: string) => string,
): RaplZone | ZoneProblem | undefined {
  if (files.energyUj === undefined || files.maxEnergyRangeUj === undefined) return undefined;
  const zone = files.name.trim();
  if (zone === '') return { file: where(files.dir, 'name'), message: `${where(files.dir, 'name')} is empty` };
  const energyUj = parseMicroUnits(files.energyUj);
  if (energyUj === undefined) return notANumber(where(files.dir, 'energy_uj'), files.energyUj);
  const maxEnergyRangeUj = parseMicroUnits(files.maxEnergyRangeUj);
  if (maxEnergyRangeUj === undefined) return notANumber(where(files.dir, 'max_energy_range_uj'), files.maxEnergyRangeUj);
  const top = topLevelDir(files.dir);
  return {
    dir: files.dir,
    zone,
    package: names.get(top) || top,
    topLevel: top === files.dir,
    energyUj,
    maxEnergyRangeUj,
  };
}

function notANumber(file: string, text: string): ZoneProblem {
  return { file, message: `${file} holds ${JSON.stringify(text.trim())}, not a whole number of micro-joules` };
}

/** Orders `intel-rapl:2` before `intel-rapl:10`, and a zone before its subzones. */
function compareDirs(a: string, b: string): number {
  const indexes = (dir: string): number[] => dir.split(':').slice(1).map(Number);
  const [left, right] = [indexes(a), indexes(b)];
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? -1) - (right[i] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * The labels of each zone's series, by directory: `{zone, package}`. The kernel names zones uniquely within a
 * package, but should two zones ever share both names, each of them gets its directory appended to the zone
 * label (`core@intel-rapl:0:0`); and should that still collide (a zone named like that), `#2`, `#3`, ... as well,
 * so that no series is emitted twice.
 */
export function seriesLabels(zones: readonly RaplZone[]): Map<string, { zone: string; package: string }> {
  const key = (zone: string, pkg: string): string => JSON.stringify([zone, pkg]);
  const counts = new Map<string, number>();
  for (const zone of zones) counts.set(key(zone.zone, zone.package), (counts.get(key(zone.zone, zone.package)) ?? 0) + 1);
  const taken = new Set<string>();
  return new Map(
    zones.map((zone) => {
      const tagged = counts.get(key(zone.zone, zone.package))! > 1 ? `${zone.zone}@${zone.dir}` : zone.zone;
      let label = tagged;
      for (let n = 2; taken.has(key(label, zone.package)); n++) label = `${tagged}#${n}`;
      taken.add(key(label, zone.package));
      return [zone.dir, { zone: label, package: zone.package }];
    }),
  );
}
