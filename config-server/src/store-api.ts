import type { StatusReport } from './bodies';
import type { Config, LayerName, Selector } from './layers';

/**
 * What the HTTP layer, the rollout timer and the long-poll notifier need from storage, whatever the engine. Every
 * method is asynchronous so that an engine with a network round trip fits behind it; a write is atomic: a refused
 * write (a failed precondition, an invalid result) stores nothing.
 */
export interface Store {
  /** Connects and brings the schema up to date (refusing a newer one); called once, before anything else. */
  open(): Promise<void>;
  /** The newest effective config served to a device (its revision is the `ETag`), or undefined for an unknown device. */
  current(deviceId: string): Promise<ConfigVersion | undefined>;
  /** The newest `limit` effective configs, newest first. */
  history(deviceId: string, limit: number): Promise<ConfigVersion[]>;
  /**
   * A device's whole config as the device (or an operator) wants it: only what differs from the effective config it
   * is based on goes into the device layer (see `deviceLayerAfter`). `precondition` sees the current revision.
   * With `dryRun` nothing is stored and `preview` says what would change.
   */
  writeDeviceConfig(
    deviceId: string,
    wanted: Config,
    change: Change,
    precondition: (currentRevision: number | undefined) => void,
    dryRun?: boolean,
  ): Promise<DeviceWriteResult>;
  /** The effective config with the layer that set each key. */
  effective(deviceId: string): Promise<Effective | undefined>;

  /** The current version of a layer; undefined when it was never written. A deleted group has `body: null`. */
  layer(layer: LayerKey): Promise<LayerVersion | undefined>;
  layerVersion(layer: LayerKey, version: number): Promise<LayerVersion | undefined>;
  layerHistory(layer: LayerKey, limit: number): Promise<LayerVersion[]>;
  /** Every group that exists now, in merge order (lowest priority first). */
  groups(): Promise<GroupState[]>;
  /** The devices a group's current selector matches, sorted by id. */
  groupDevices(name: string): Promise<DeviceMembership[] | undefined>;
  /**
   * Stores a new version of a layer (`body: null` deletes a group) and every effective config it changes, or with
   * `dryRun` answers the preview and stores nothing. Refused (HttpError 400) when any affected device's effective
   * config would be invalid, 409 while a rollout of the layer is under way.
   */
  changeLayer(layer: LayerKey, body: LayerBody | null, change: Change, options: LayerWriteOptions): Promise<LayerWriteResult>;

  /** Operator-set tags of a registered device (false when the device is unknown); a change re-selects its groups. */
  setTags(deviceId: string, tags: Record<string, string>, change: Change): Promise<Record<string, string> | undefined>;
  tags(deviceId: string): Promise<Record<string, string> | undefined>;

  rollout(id: number): Promise<RolloutState | undefined>;
  /** Rollouts newest first, without their devices; only those in `state` when given. */
  rollouts(filter: { state?: RolloutState['state']; limit: number }): Promise<RolloutSummary[]>;
  /** Rollouts that step on a timer (running), with when their next step is due. */
  runningRollouts(): Promise<Array<{ id: number; next_step_at: number }>>;
  /** Checks the current step of a running rollout once its wait is over: halts it, reaches the next step or completes it. */
  advanceRollout(id: number, now: number): Promise<RolloutState | undefined>;
  rolloutAction(id: number, action: RolloutAction, change: Change): Promise<RolloutState>;

  recordSeen(deviceId: string, address: string | null): Promise<boolean>;
  recordReport(deviceId: string, report: StatusReport, fromAddress: string | null): Promise<DeviceSummary | 'unknown-device' | 'unknown-version'>;
  device(deviceId: string): Promise<DeviceSummary | undefined>;
  devices(): Promise<DeviceSummary[]>;
  deviceCount(): Promise<number>;
  failedDeviceCount(): Promise<number>;
  /** Calls `listener` with the devices whose effective config changed (one new version each), after each write that changed any. */
  onEffectiveChange(listener: (deviceIds: readonly string[], source: ChangeSource) => void): void;
  /**
   * Where several servers share the database: calls `listener` with the devices another server changed, or with
   * `'all'` when such notices may have been missed (after a lost connection), so that every waiting device looks again.
   */
  onReplicaChange(listener: (deviceIds: readonly string[] | 'all') => void): void;

  /** Stores a console session (every replica sees it). */
  addSession(session: StoredSession): Promise<void>;
  /** The session stored under `key`, unless it expired at `now` (ms). */
  session(key: string, now: number): Promise<StoredSession | undefined>;
  /** Ends a session; false when there was none. */
  deleteSession(key: string): Promise<boolean>;
  /** Deletes every session expired at `now` (ms); answers how many. */
  sweepSessions(now: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A console session as stored: keyed by the SHA-256 of the cookie's value (never the value itself), so that a copy
 * of the database lets no one in. `credential` ties it to the token it was opened with (see console-sessions.ts).
 */
export interface StoredSession {
  key: string;
  role: 'admin' | 'device';
  device_id: string | null;
  csrf_token: string;
  credential: string;
  address: string | null;
  /** Milliseconds since the epoch. */
  created_at: number;
  expires_at: number;
}

/** Who made a change: an operator (admin) or the device itself. */
export type ChangeSource = 'admin' | 'device';

export interface Change {
  source: ChangeSource;
  /** The client address the change came from. */
  address: string | null;
}

/** `fleet`, `group:<name>` or `device:<device_id>`. */
export type LayerKey = 'fleet' | `group:${string}` | `device:${string}`;

/** A layer's content: its config, and for a group its selector and priority. */
export interface LayerBody {
  config: Config;
  selector?: Selector;
  priority?: number;
  /** A device layer's discovered metrics (all `false`), merged below the fleet layer. */
  discovered?: Record<string, boolean>;
}

export interface LayerVersion {
  layer: LayerKey;
  version: number;
  /** null: the group was deleted in this version. */
  body: LayerBody | null;
  source: ChangeSource;
  address: string | null;
  created_at: string;
  /** Why this version exists when it is not a plain write, e.g. `rollback to version 2`. */
  note: string | null;
}

export interface GroupState {
  name: string;
  version: number;
  selector: Selector;
  priority: number;
  config: Config;
  updated_at: string;
}

export interface DeviceMembership {
  device_id: string;
  device_type: string | null;
  tags: Record<string, string>;
}

export interface Effective {
  device_id: string;
  version: number;
  config: Config;
  provenance: Record<string, LayerName>;
  /** The version of each layer the config was computed from; a rollout may pin a device to an older one. */
  layers: Record<string, number>;
}

export interface RolloutPlan {
  /** Cumulative percentages of the affected devices, rising, the last 100. */
  steps: number[];
  wait_s: number;
  max_failed_percent: number;
}

export interface LayerWriteOptions {
  precondition: (currentVersion: number | undefined) => void;
  dryRun?: boolean;
  rollout?: RolloutPlan;
  /** Why this version exists, e.g. a rollback. */
  note?: string;
}

/** One affected device in a preview. */
export interface DevicePreview {
  device_id: string;
  changes: Array<{ key: string; before?: unknown; after?: unknown }>;
  valid: boolean;
  problems: string[];
  /** What the server cannot check, e.g. whether the device has a plugin for a new device type. */
  warnings: string[];
}

export interface LayerWriteResult {
  layer: LayerKey;
  /** The new version (with dry_run: the one it would be). */
  version: number;
  /** False when the body equals the current version: nothing stored. */
  changed: boolean;
  dry_run: boolean;
  /** Devices whose effective config changes (with a rollout: changes once the rollout completes). */
  affected: DevicePreview[];
  warnings: string[];
  rollout?: RolloutState;
}

export type RolloutAction = 'resume' | 'abort' | 'rollback';

export interface RolloutDeviceState {
  device_id: string;
  /** The step (1-based) that reached the device; null while it keeps its previous config. */
  step: number | null;
  /** The effective revision the step gave it. */
  version: number | null;
  status: 'waiting' | 'pending' | 'applied' | 'failed';
  error: string | null;
}

export interface RolloutState {
  id: number;
  layer: LayerKey;
  from_version: number;
  to_version: number;
  steps: number[];
  wait_s: number;
  max_failed_percent: number;
  state: 'running' | 'halted' | 'aborted' | 'completed' | 'rolled_back';
  /** Steps reached so far. */
  step: number;
  next_step_at: string | null;
  reason: string | null;
  created_at: string;
  updated_at: string;
  devices: RolloutDeviceState[];
}

/** A rollout as `GET /rollouts` lists it. */
export type RolloutSummary = Omit<RolloutState, 'devices'>;

/** One stored effective config of a device, as the API shows it. */
export interface ConfigVersion {
  version: number;
  config: Record<string, unknown>;
  source: ChangeSource;
  address: string | null;
  created_at: string;
  /** Which layer change made this version, e.g. `fleet v3`, `device v2`, `rollout 4 step 2`. */
  cause: string | null;
  /** What the device reported after receiving this version; null until it reports. */
  apply_status: 'applied' | 'failed' | null;
  apply_error: string | null;
  apply_reported_at: string | null;
}

/** A device as `GET /devices` shows it. */
export interface DeviceSummary {
  device_id: string;
  version: number;
  updated_at: string;
  /** Source of the last change. */
  source: ChangeSource;
  /** Last request made as this device, and the client address it came from. */
  last_seen: string | null;
  address: string | null;
  device_type: string | null;
  metrics_port: number | null;
  /** `host:port` that Prometheus scrapes (`/sd`); null until the device reports its metrics port. */
  target: string | null;
  apply: ApplyState | null;
  /** Operator-set tags, and the groups whose selectors pick the device now (in merge order). */
  tags: Record<string, string>;
  groups: string[];
}

/** The device's last reports: the newest version it received and the newest it runs are kept apart. */
export interface ApplyState {
  received_version: number;
  status: 'applied' | 'failed';
  error: string | null;
  applied_version: number | null;
  reported_at: string;
}

export type WriteOutcome = 'created' | 'updated' | 'unchanged';

export interface DeviceWriteResult {
  /** The device's version after the write (its effective config's revision). */
  version: number;
  outcome: WriteOutcome;
  /** The device layer's version after the write. */
  layerVersion: number;
  /** With a dry run: what would change; nothing was stored. */
  preview?: LayerWriteResult;
}
