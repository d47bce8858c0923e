import { hasTotalSuffixOnNonCounter } from '@edge-metrics/core';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ChangeNotifier } from './change-notifier';
import type { Store } from './store-api';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'code'>;
  versionsCreated: Counter<'source'>;
}

/** The server's own registry: requests, stored versions, devices, held long-polls, and the process. */
export function createServerMetrics(store: Store, notifier: ChangeNotifier): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  // Left out as core's exposition leaves them out, so that `promtool check metrics` passes.
  for (const metric of registry.getMetricsAsArray()) {
    if (hasTotalSuffixOnNonCounter(metric)) registry.removeSingleMetric(metric.name);
  }
  new Gauge({
    name: 'config_server_devices',
    help: 'Devices with a stored config',
    registers,
    async collect() {
      this.set(await store.deviceCount());
    },
  });
  new Gauge({
    name: 'config_server_devices_apply_failed',
    help: 'Devices whose latest report says they failed to apply a config version',
    registers,
    async collect() {
      this.set(await store.failedDeviceCount());
    },
  });
  new Gauge({
    name: 'config_server_long_polls',
    help: 'GET /config requests held open now, waiting for a change',
    registers,
    collect() {
      this.set(notifier.size);
    },
  });
  return {
    registry,
    requests: new Counter({
      name: 'config_server_http_requests_total',
      help: 'HTTP requests answered, by method, route and status code',
      labelNames: ['method', 'route', 'code'] as const,
      registers,
    }),
    versionsCreated: new Counter({
      name: 'config_server_config_versions_created_total',
      help: 'Config versions stored, by the source of the change (admin or device)',
      labelNames: ['source'] as const,
      registers,
    }),
  };
}
