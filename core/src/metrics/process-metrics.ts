import type { Registry } from 'prom-client';
import Counter from 'prom-client/lib/counter';
import gc from 'prom-client/lib/metrics/gc';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed';
import heapSpacesSizeAndUsed from 'prom-client/lib/metrics/heapSpacesSizeAndUsed';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap';
import processHandles from 'prom-client/lib/metrics/processHandles';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors';
import processRequests from 'prom-client/lib/metrics/processRequests';
import processResources from 'prom-client/lib/metrics/processResources';
import processStartTime from 'prom-client/lib/metrics/processStartTime';
import version from 'prom-client/lib/metrics/version';

/**
 * prom-client's default process and Node.js metrics, each registered from its own module, but for two: its
 * `process_cpu_*` counters, which load `@opentelemetry/api` for exemplars the exporter never attaches (about 1 MiB of
 * an idle exporter), are counted here from `process.cpuUsage()` under the same names and help; and its
 * `nodejs_eventloop_lag_*` summary, whose monitor samples the event loop all the time (the exporter measures the
 * lag once per cycle instead).
 */
export function registerProcessMetrics(registry: Registry): void {
  for (const register of [
    processStartTime,
    osMemoryHeap,
    processOpenFileDescriptors,
    processMaxFileDescriptors,
    processResources,
    processHandles,
    processRequests,
    heapSizeAndUsed,
    heapSpacesSizeAndUsed,
    version,
    gc,
  ]) {
    register(registry, {});
  }
  registerProcessCpu(registry);
}

function registerProcessCpu(registry: Registry): void {
  // From the process's start, as the Go client counts it (prom-client counts from its registration, missing the
  // start-up). The first counter's collect sets all three from one reading.
  let last = { user: 0, system: 0 };
  const readCpu = (): void => {
    const now = process.cpuUsage();
    const user = (now.user - last.user) / 1e6;
    const system = (now.system - last.system) / 1e6;
    last = now;
    cpu.user.inc(user);
    cpu.system.inc(system);
    cpu.total.inc(user + system);
  };
  const cpu = {
    user: new Counter({ name: 'process_cpu_user_seconds_total', help: 'Total user CPU time spent in seconds.', registers: [registry], collect: readCpu }),
    system: new Counter({ name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.', registers: [registry] }),
    total: new Counter({ name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', registers: [registry] }),
  };
}
