import { describeReadFailure, type ReadFailure } from '@edge-metrics/core/plugin';

const ADVICE = {
  permission:
    'since Linux 5.10 (CVE-2020-8694) energy_uj is readable by root only. Run the exporter as root, or make the ' +
    'counters readable with the udev rule or the sysfsutils line in the edge-collector-lattepanda-rapl README, ' +
    'section "Permissions" (a plain chmod works until the next reboot)',
  vanished: 'the RAPL driver was unloaded or the zone removed',
};

/** What a zone file that could not be read means, and how to fix it. */
export function describeFailure(failure: ReadFailure): string {
  return describeReadFailure(failure, ADVICE);
}

/** Why there is nothing to read under `dir`, and what to check. */
export function noZonesMessage(dir: string): string {
  return (
    `no RAPL zone under ${dir} (no intel-rapl:N entries). RAPL needs an Intel CPU since Sandy Bridge or an AMD ` +
    `CPU since Zen, and the powercap driver: load it with 'modprobe intel_rapl_msr'. In a container, mount the ` +
    `host's /sys and point the option sysfs_root at it`
  );
}
