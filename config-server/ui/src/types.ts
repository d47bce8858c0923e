/** The shapes of the API answers the console reads (see the config server's README). */

export interface DeviceSummary {
  device_id: string;
  version: number;
  updated_at: string;
  last_seen: string | null;
  address: string | null;
  device_type: string | null;
  target: string | null;
  tags?: Record<string, string>;
  groups?: string[];
  online?: boolean;
  apply: {
    received_version: number;
    status: 'applied' | 'failed';
    error: string | null;
    applied_version: number | null;
  } | null;
}

export interface Power {
  devices: Record<string, { watts: number | null; energy_24h_wh: number | null }>;
  total_watts: number | null;
  total_energy_24h_wh: number | null;
}

export interface Effective {
  device_id: string;
  version: number;
  config: Record<string, unknown>;
  provenance: Record<string, string>;
  layers: Record<string, number>;
}

export interface DeviceLayer {
  device_id: string;
  version: number;
  config: Record<string, unknown>;
  discovered: Record<string, boolean>;
}

export interface LayerHistory {
  layer: string;
  versions: Array<{ version: number; content?: unknown; deleted?: boolean; source: string; address: string | null; created_at: string; note: string | null }>;
}

export interface ConfigHistory {
  device_id: string;
  versions: Array<{ version: number; config: Record<string, unknown>; source: string; created_at: string; cause: string | null; apply_status: 'applied' | 'failed' | null; apply_error: string | null }>;
}

export interface KeyChange {
  key: string;
  before?: unknown;
  after?: unknown;
}

export interface Preview {
  dry_run: true;
  layer: string;
  changed: boolean;
  valid: boolean;
  devices: Array<{ device_id: string; changes: KeyChange[]; valid: boolean; problems: string[]; warnings: string[] }>;
  warnings: string[];
}

export interface Group {
  name: string;
  version: number;
  selector: Record<string, unknown>;
  priority: number;
  config: Record<string, unknown>;
  updated_at: string;
}

export interface Rollout {
  id: number;
  layer: string;
  from_version: number;
  to_version: number;
  steps: number[];
  wait_s: number;
  max_failed_percent: number;
  state: 'running' | 'halted' | 'completed' | 'aborted' | 'rolled_back';
  step: number;
  next_step_at: string | null;
  reason: string | null;
  created_at: string;
  updated_at: string;
  devices?: Array<{ device_id: string; step: number | null; version: number | null; status: string; error: string | null }>;
}
