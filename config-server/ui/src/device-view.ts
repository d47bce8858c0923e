/**
 * One device: what it runs and why (each key with the layer that set it), its own layer as YAML checked while the
 * operator types, its metrics as toggles, the history of its layer with the keys each version changed, and the
 * versions it was served with what made each and whether it applied.
 */

import { ApiError, call, describe, type Session } from './api.js';
import { el, replaceChildren, setText, statusLine, when } from './dom.js';
import { dryRun } from './dry-run.js';
import { diff, flatten, layerOf, showValue } from './key-paths.js';
import type { ConfigHistory, DeviceLayer, DeviceSummary, Effective, LayerHistory } from './types.js';
import { yamlEditor } from './yaml-editor.js';

export function deviceView(main: HTMLElement, session: Session, deviceId: string): () => void {
  const base = `/config/${encodeURIComponent(deviceId)}`;
  const canWrite = session.role === 'admin';
  const summary = el('dl', { class: 'summary' });
  const effectiveBody = el('tbody');
  const metricsBox = el('fieldset', { class: 'metrics' });
  const metricsStatus = statusLine();
  const editorStatus = statusLine();
  const historyList = el('ol', { class: 'history' });
  const historyStatus = statusLine();
  const servedBody = el('tbody');
  let layerVersion = 0;
  let layer: DeviceLayer | null = null;
  let editorDirty = false;
  /** The layer version the editor's text started from: a save is based on it, so a change made since is not overwritten. */
  let editorBase = 0;

  const editor = yamlEditor('device-layer', `Own layer of ${deviceId} (YAML: only the keys this device overrides)`, '', {
    readOnly: !canWrite,
    // A device's session only reads: a dry run is a write, refused to it.
    ...(canWrite ? { onEdit: () => void validate() } : {}),
  });
  editor.textarea.addEventListener('input', () => (editorDirty = true));
  const validateButton = el('button', { type: 'button' }, 'Check');
  const saveButton = el('button', { type: 'button', class: 'primary' }, 'Save');
  const changesList = el('ul', { class: 'changes' });

  replaceChildren(
    main,
    el('p', { class: 'crumbs' }, canWrite ? el('a', { href: '#/' }, 'Fleet') : null, canWrite ? ' / ' : null, deviceId),
    el('h1', {}, deviceId),
    summary,
    el('section', {}, el('h2', {}, 'Effective config'), el('table', { class: 'effective' }, el('caption', {}, 'Each key and the layer that set it'), el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Key'), el('th', { scope: 'col' }, 'Value'), el('th', { scope: 'col' }, 'Layer'))), effectiveBody)),
    el('section', {}, el('h2', {}, 'Metrics'), metricsBox, metricsStatus),
    el('section', {}, el('h2', {}, 'Own layer'), editor.element, canWrite ? el('div', { class: 'actions' }, validateButton, saveButton) : null, changesList, editorStatus),
    el('section', {}, el('h2', {}, 'History of its own layer'), historyStatus, historyList),
    el(
      'section',
      {},
      el('h2', {}, 'Versions it was served'),
      el('table', { class: 'served' }, el('caption', {}, 'Its effective config, newest first: what made each version, and whether the device applied it'), el('thead', {}, el('tr', {}, ...['Version', 'When', 'Made by', 'Apply', 'Changes'].map((title) => el('th', { scope: 'col' }, title)))), servedBody),
    ),
  );

  const showSummary = (device: DeviceSummary): void => {
    const items: Array<[string, string | Node]> = [
      ['Type', device.device_type ?? '—'],
      ['Status', device.online ? 'online' : 'offline'],
      ['Last seen', when(device.last_seen)],
      ['Version', `v${device.version}${device.apply?.applied_version && device.apply.applied_version !== device.version ? ` (runs v${device.apply.applied_version})` : ''}`],
      ['Apply', !device.apply ? 'not reported' : device.apply.status === 'failed' ? `failed on v${device.apply.received_version}: ${device.apply.error ?? ''}` : `applied v${device.apply.received_version}`],
      ['Address', device.target ?? device.address ?? '—'],
      ['Groups', (device.groups ?? []).join(', ') || '—'],
      ['Tags', Object.entries(device.tags ?? {}).map(([name, value]) => `${name}=${value}`).join(', ') || '—'],
    ];
    if (session.grafana_url) {
      const link = el('a', { href: `${session.grafana_url}?var-hostname=${encodeURIComponent(deviceId)}`, rel: 'noreferrer' }, 'Grafana dashboard');
      items.push(['Dashboard', link]);
    }
    replaceChildren(summary, ...items.flatMap(([term, value]) => [el('dt', {}, term), el('dd', { class: device.apply?.status === 'failed' && term === 'Apply' ? 'failed' : '' }, value)]));
  };

  const showEffective = (effective: Effective): void => {
    const leaves = flatten(effective.config);
    replaceChildren(effectiveBody, ...[...leaves].map(([key, value]) => el('tr', {}, el('th', { scope: 'row' }, key), el('td', {}, showValue(value)), el('td', { class: 'layer' }, layerOf(key, effective.provenance)))));
  };

  const showMetrics = (effective: Effective): void => {
    const metrics = (effective.config.metrics ?? {}) as Record<string, unknown>;
    const names = Object.keys(metrics).sort();
    replaceChildren(metricsBox, el('legend', {}, 'Metrics exposed (a change writes this device’s own layer)'));
    if (names.length === 0) metricsBox.append(el('p', {}, 'No metrics in the effective config yet.'));
    names.forEach((name, index) => {
      const box = el('input', { type: 'checkbox', name, disabled: !canWrite });
      box.checked = metrics[name] === true;
      box.addEventListener('change', () => void toggle(name, box));
      metricsBox.append(el('span', { class: 'toggle' }, box, el('label', { for: `metric-${index}` }, name)));
      box.id = `metric-${index}`;
    });
  };

  const toggle = async (name: string, box: HTMLInputElement): Promise<void> => {
    if (!layer) return;
    const config = { ...layer.config, metrics: { ...((layer.config.metrics ?? {}) as Record<string, boolean>), [name]: box.checked } };
    box.disabled = true;
    try {
      await call(`${base}/layer`, { method: 'PUT', json: config, ifMatch: layerVersion });
      setText(metricsStatus, `${name} ${box.checked ? 'enabled' : 'disabled'}`);
      await load();
    } catch (error) {
      box.checked = !box.checked;
      setText(metricsStatus, `Not changed: ${describe(error)}`);
    } finally {
      box.disabled = false;
    }
  };

  const showHistory = (history: LayerHistory): void => {
    replaceChildren(
      historyList,
      ...history.versions.map((version, index) => {
        const previous = history.versions[index + 1];
        const changes = diff(previous?.content ?? {}, version.content ?? {});
        const rollback = el('button', { type: 'button', 'data-version': version.version }, `Roll back to version ${version.version}`);
        rollback.addEventListener('click', () => void rollBack(version.version));
        return el(
          'li',
          { 'data-version': version.version },
          el('p', {}, el('strong', {}, `Version ${version.version}`), ` — ${when(version.created_at)}, by ${version.source}${version.address ? ` from ${version.address}` : ''}${version.note ? ` (${version.note})` : ''}`),
          el('ul', { class: 'changes' }, ...changes.map((change) => el('li', {}, changeText(change)))),
          canWrite && index > 0 ? rollback : null,
        );
      }),
    );
  };

  const showServed = (history: ConfigHistory): void => {
    replaceChildren(
      servedBody,
      ...history.versions.map((version, index) => {
        const previous = history.versions[index + 1];
        const changes = previous ? diff(previous.config, version.config) : [];
        const apply = version.apply_status === 'failed' ? `failed: ${version.apply_error ?? ''}` : version.apply_status ?? 'not reported';
        return el(
          'tr',
          { class: version.apply_status === 'failed' ? 'failed' : '', 'data-version': version.version },
          el('th', { scope: 'row' }, `v${version.version}`),
          el('td', {}, when(version.created_at)),
          el('td', {}, version.cause ?? version.source),
          el('td', { class: 'apply' }, apply),
          el('td', {}, previous ? el('ul', { class: 'changes' }, ...changes.map((change) => el('li', {}, changeText(change)))) : 'first version'),
        );
      }),
    );
  };

  const rollBack = async (version: number): Promise<void> => {
    try {
      await call(`${base}/layer/rollback`, { method: 'POST', json: { version } });
      setText(historyStatus, `Rolled back to version ${version}`);
      editorDirty = false;
      await load();
    } catch (error) {
      setText(historyStatus, `Not rolled back: ${describe(error)}`);
    }
  };

  let checking = 0;
  /** Checks the editor's text with a dry run; true when it is valid. */
  const validate = async (): Promise<boolean> => {
    const ticket = ++checking;
    try {
      const check = await dryRun(`${base}/layer`, editor.textarea.value);
      if (ticket !== checking) return false;
      editor.showProblems(check.problems);
      const changes = check.preview?.devices.find((device) => device.device_id === deviceId)?.changes ?? [];
      replaceChildren(changesList, ...changes.map((change) => el('li', {}, changeText(change))));
      setText(editorStatus, check.problems.length > 0 ? `${check.problems.length} problem(s): nothing saved` : changes.length > 0 ? `Valid: ${changes.length} key(s) would change` : 'Valid: no change');
      return check.problems.length === 0;
    } catch (error) {
      if (ticket === checking) setText(editorStatus, `Could not check: ${describe(error)}`);
      return false;
    }
  };

  const save = async (): Promise<void> => {
    saveButton.disabled = true;
    try {
      if (!(await validate())) return;
      const { body } = await call<{ version: number; changed: boolean }>(`${base}/layer`, { method: 'PUT', yaml: editor.textarea.value, ifMatch: editorBase });
      editorDirty = false;
      setText(editorStatus, body.changed ? `Saved as version ${body.version}` : 'Saved: nothing changed');
      replaceChildren(changesList);
      await load();
    } catch (error) {
      const hint = error instanceof ApiError && error.status === 412 ? ' (someone changed it meanwhile: copy your text, reload and apply it again)' : '';
      if (error instanceof ApiError) editor.showProblems(error.problems);
      setText(editorStatus, `Not saved: ${describe(error)}${hint}`);
    } finally {
      saveButton.disabled = false;
    }
  };
  validateButton.addEventListener('click', () => void validate());
  saveButton.addEventListener('click', () => void save());

  const load = async (): Promise<void> => {
    const [device, effective, layerJson, layerYaml, history, served] = await Promise.all([
      call<DeviceSummary>(`/devices/${encodeURIComponent(deviceId)}`),
      call<Effective>(`${base}/effective`),
      call<DeviceLayer>(`${base}/layer`),
      call<string>(`${base}/layer`, { accept: 'application/yaml' }),
      call<LayerHistory>(`${base}/layer/history`).catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 404) return { body: { layer: `device:${deviceId}`, versions: [] } };
        throw error;
      }),
      call<ConfigHistory>(`${base}/history?limit=20`),
    ]);
    layer = layerJson.body;
    layerVersion = layerJson.version ?? layer.version;
    showSummary(device.body);
    showEffective(effective.body);
    showMetrics(effective.body);
    showHistory(history.body);
    showServed(served.body);
    if (!editorDirty) {
      editor.setText(layerYaml.body);
      editorBase = layerYaml.version ?? layerVersion;
    }
  };

  let stopped = false;
  let timer: number | undefined;
  const refreshSummary = async (): Promise<void> => {
    try {
      const [device, served] = await Promise.all([call<DeviceSummary>(`/devices/${encodeURIComponent(deviceId)}`), call<ConfigHistory>(`${base}/history?limit=20`)]);
      if (stopped) return;
      showSummary(device.body);
      showServed(served.body);
    } catch {
      // The next poll tries again; the page keeps what it shows.
    }
    if (!stopped) timer = window.setTimeout(() => void refreshSummary(), 3000);
  };
  load().then(
    () => {
      if (!stopped) timer = window.setTimeout(() => void refreshSummary(), 3000);
    },
    (error: unknown) => setText(editorStatus, `Could not load ${deviceId}: ${describe(error)}`),
  );
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

/** One key's change as a line: `interval: 5 → 2`, `+ labels.rack: b7`, `− metrics.x: true`. */
export function changeText(change: { key: string; before?: unknown; after?: unknown }): string {
  if (!('before' in change)) return `+ ${change.key}: ${showValue(change.after)}`;
  if (!('after' in change)) return `− ${change.key}: ${showValue(change.before)}`;
  return `${change.key}: ${showValue(change.before)} → ${showValue(change.after)}`;
}
