import { describeError } from './errors';

/** Each device's power now and energy over the last 24 hours, and the totals of the devices listed. */
export interface FleetPower {
  devices: Record<string, { watts: number | null; energy_24h_wh: number | null }>;
  total_watts: number | null;
  total_energy_24h_wh: number | null;
}

/**
 * By the `device_id` label that `/sd` gives every target. A device with several series (scraped by two jobs, or with
 * a board sensor and a wall plug) counts once: its largest.
 */
const WATTS_QUERY = 'max by (device_id) (power_total_watts{device_id!=""})';
const JOULES_24H_QUERY = 'max by (device_id) (increase(energy_joules_total{device_id!=""}[24h]))';
const JOULES_PER_WH = 3600;
const QUERY_TIMEOUT_MS = 5000;

/** Prometheus did not answer, or answered something else than a vector. */
export class PrometheusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrometheusError';
  }
}

interface QueryAnswer {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: Array<{ metric?: Record<string, string>; value?: [number, string] }> };
}

/** One instant query: each device's value. */
async function queryByDevice(prometheusUrl: string, promql: string): Promise<Map<string, number>> {
  const url = new URL('api/v1/query', prometheusUrl.endsWith('/') ? prometheusUrl : `${prometheusUrl}/`);
  url.searchParams.set('query', promql);
  let answer: QueryAnswer;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(QUERY_TIMEOUT_MS), headers: { Accept: 'application/json' } });
    answer = (await response.json()) as QueryAnswer;
  } catch (error) {
    throw new PrometheusError(`Prometheus at ${prometheusUrl} did not answer: ${describeError(error)}`);
  }
  if (answer.status !== 'success' || answer.data?.resultType !== 'vector' || !Array.isArray(answer.data.result)) {
    throw new PrometheusError(`Prometheus at ${prometheusUrl} refused the query ${promql}: ${answer.error ?? 'no vector in the answer'}`);
  }
  const values = new Map<string, number>();
  for (const { metric, value } of answer.data.result) {
    const number = Number(value?.[1]);
    if (metric?.device_id !== undefined && Number.isFinite(number)) values.set(metric.device_id, number);
  }
  return values;
}

const total = (values: Array<number | null>): number | null => {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : known.reduce((sum, value) => sum + value, 0);
};

/** The power of `deviceIds` from Prometheus's query API; a device Prometheus has no series of gets nulls. */
export async function fleetPower(prometheusUrl: string, deviceIds: readonly string[]): Promise<FleetPower> {
  const [watts, joules] = await Promise.all([queryByDevice(prometheusUrl, WATTS_QUERY), queryByDevice(prometheusUrl, JOULES_24H_QUERY)]);
  const devices: FleetPower['devices'] = {};
  for (const deviceId of deviceIds) {
    const energy = joules.get(deviceId);
    devices[deviceId] = { watts: watts.get(deviceId) ?? null, energy_24h_wh: energy === undefined ? null : energy / JOULES_PER_WH };
  }
  const figures = Object.values(devices);
  return {
    devices,
    total_watts: total(figures.map((figure) => figure.watts)),
    total_energy_24h_wh: total(figures.map((figure) => figure.energy_24h_wh)),
  };
}
