/**
 * The shared layers: the fleet layer and the groups, each edited as YAML with a preview of every device the change
 * reaches (its key changes and whether it stays valid), saved at once or released as a staged rollout.
 */

import { ApiError, call, describe } from './api.js';
import { el, href, labelled, replaceChildren, setText, statusLine, when } from './dom.js';
import { changeText } from './device-view.js';
import { dryRun } from './dry-run.js';
import type { Group, Preview, Rollout } from './types.js';
import { yamlEditor } from './yaml-editor.js';

/** `#/layers`: the fleet layer, the groups in merge order, recent rollouts, and a form to start a new group. */
export function layersView(main: HTMLElement): () => void {
  const status = statusLine();
  const groupsBody = el('tbody');
  const rolloutsBody = el('tbody');
  const fleetLine = el('p', {}, el('a', { href: '#/layers/fleet' }, 'Fleet layer'), el('span', { class: 'fleet-version' }));
  const newName = el('input', { type: 'text', required: true, pattern: '[A-Za-z0-9._\\-]{1,64}' });
  const newForm = el('form', { class: 'new-group' }, labelled('New group name', newName, 'new-group-name'), el('button', { type: 'submit' }, 'Create group'));
  newForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (newForm.reportValidity()) window.location.hash = href('layers', 'groups', newName.value);
  });
  replaceChildren(
    main,
    el('h1', {}, 'Layers'),
    el('p', {}, 'Every device runs the fleet layer, then the groups that select it (lower priority first), then its own layer.'),
    status,
    el('section', {}, el('h2', {}, 'Fleet'), fleetLine),
    el('section', {}, el('h2', {}, 'Groups'), el('table', {}, el('caption', {}, 'Groups in merge order'), el('thead', {}, el('tr', {}, ...['Group', 'Priority', 'Selector', 'Version', 'Updated'].map((title) => el('th', { scope: 'col' }, title)))), groupsBody), newForm),
    el('section', {}, el('h2', {}, 'Rollouts'), el('table', {}, el('caption', {}, 'Recent staged rollouts'), el('thead', {}, el('tr', {}, ...['Rollout', 'Layer', 'State', 'Step', 'Updated'].map((title) => el('th', { scope: 'col' }, title)))), rolloutsBody)),
  );
  void (async () => {
    try {
      const [fleet, groups, rollouts] = await Promise.all([
        call<{ version: number; updated_at: string | null }>('/fleet'),
        call<{ groups: Group[] }>('/groups'),
        call<{ rollouts: Rollout[] }>('/rollouts?limit=20'),
      ]);
      setText(fleetLine.lastChild!, ` — version ${fleet.body.version}, updated ${when(fleet.body.updated_at)}`);
      replaceChildren(
        groupsBody,
        ...groups.body.groups.map((group) =>
          el('tr', {}, el('th', { scope: 'row' }, el('a', { href: href('layers', 'groups', group.name) }, group.name)), el('td', {}, String(group.priority)), el('td', {}, JSON.stringify(group.selector)), el('td', {}, `v${group.version}`), el('td', {}, when(group.updated_at))),
        ),
      );
      replaceChildren(
        rolloutsBody,
        ...rollouts.body.rollouts.map((rollout) =>
          el('tr', {}, el('th', { scope: 'row' }, el('a', { href: href('rollouts', String(rollout.id)) }, `#${rollout.id}`)), el('td', {}, rollout.layer), el('td', { class: `state ${rollout.state}` }, rollout.state), el('td', {}, `${rollout.step} of ${rollout.steps.length}`), el('td', {}, when(rollout.updated_at))),
        ),
      );
    } catch (error) {
      setText(status, `Could not load the layers: ${describe(error)}`);
    }
  })();
  return () => undefined;
}

/** A new group's text: selects nothing until the operator writes a selector. */
const NEW_GROUP = `selector:
  device_type: jetson_orin
priority: 0
config:
  interval: 5
`;

/** `#/layers/fleet` or `#/layers/groups/<name>`: the layer as YAML, its preview, save or staged rollout. */
export function layerEditorView(main: HTMLElement, groupName: string | null): () => void {
  const path = groupName === null ? '/fleet' : `/groups/${encodeURIComponent(groupName)}`;
  const title = groupName === null ? 'Fleet layer' : `Group ${groupName}`;
  const status = statusLine();
  const previewBox = el('section', { class: 'preview', 'aria-live': 'polite' });
  let version: number | null = null;
  const editor = yamlEditor('layer-yaml', groupName === null ? 'Fleet layer (YAML: config keys for every device)' : `Group ${groupName} (YAML: selector, priority, config)`, '', { onEdit: () => void check() });
  const previewButton = el('button', { type: 'button' }, 'Preview');
  const saveButton = el('button', { type: 'button', class: 'primary' }, 'Save now');
  const steps = el('input', { type: 'text', value: '10, 50, 100', inputmode: 'numeric' });
  const wait = el('input', { type: 'number', min: 0, max: 86400, value: 600 });
  const maxFailed = el('input', { type: 'number', min: 0, max: 100, value: 10 });
  const rolloutButton = el('button', { type: 'button' }, 'Start staged rollout');
  replaceChildren(
    main,
    el('p', { class: 'crumbs' }, el('a', { href: '#/layers' }, 'Layers'), ` / ${title}`),
    el('h1', {}, title),
    editor.element,
    el('div', { class: 'actions' }, previewButton, saveButton),
    el('fieldset', { class: 'rollout-form' }, el('legend', {}, 'Or release it in steps'), labelled('Steps (% of affected devices)', steps, 'rollout-steps'), labelled('Wait between steps (s)', wait, 'rollout-wait'), labelled('Halt above failed (%)', maxFailed, 'rollout-max-failed'), rolloutButton),
    status,
    previewBox,
  );

  const showPreview = (preview: Preview): void => {
    replaceChildren(
      previewBox,
      el('h2', {}, `Preview: ${preview.devices.length} device(s) change${preview.valid ? '' : ', some would be invalid'}`),
      ...preview.warnings.map((warning) => el('p', { class: 'warning' }, warning)),
      el(
        'ul',
        { class: 'affected' },
        ...preview.devices.map((device) =>
          el(
            'li',
            { class: device.valid ? '' : 'invalid', 'data-device': device.device_id },
            el('a', { href: href('devices', device.device_id) }, device.device_id),
            device.valid ? '' : ' — invalid',
            el('ul', {}, ...device.changes.map((change) => el('li', {}, changeText(change))), ...device.problems.map((problem) => el('li', { class: 'problem' }, problem)), ...device.warnings.map((warning) => el('li', { class: 'warning' }, warning))),
          ),
        ),
      ),
    );
  };

  let ticket = 0;
  const check = async (): Promise<boolean> => {
    const mine = ++ticket;
    try {
      const result = await dryRun(path, editor.textarea.value);
      if (mine !== ticket) return false;
      editor.showProblems(result.problems);
      if (result.preview) showPreview(result.preview);
      else replaceChildren(previewBox);
      setText(status, result.problems.length > 0 ? `${result.problems.length} problem(s): nothing saved` : 'Valid');
      return result.problems.length === 0;
    } catch (error) {
      if (mine === ticket) setText(status, `Could not check: ${describe(error)}`);
      return false;
    }
  };

  const write = async (yaml: string): Promise<void> => {
    saveButton.disabled = rolloutButton.disabled = true;
    try {
      if (!(await check())) return;
      const reply = await call<{ version: number; changed: boolean; devices: string[]; rollout?: Rollout }>(path, { method: 'PUT', yaml, ...(version ? { ifMatch: version } : {}) });
      if (reply.body.rollout) {
        window.location.hash = href('rollouts', String(reply.body.rollout.id));
        return;
      }
      version = reply.version;
      setText(status, reply.body.changed ? `Saved as version ${reply.body.version}: ${reply.body.devices.length} device(s) get a new config` : 'Saved: nothing changed');
      replaceChildren(previewBox);
    } catch (error) {
      if (error instanceof ApiError) editor.showProblems(error.problems);
      setText(status, `Not saved: ${describe(error)}`);
    } finally {
      saveButton.disabled = rolloutButton.disabled = false;
    }
  };

  previewButton.addEventListener('click', () => void check());
  saveButton.addEventListener('click', () => void write(editor.textarea.value));
  rolloutButton.addEventListener('click', () => {
    const plan = `rollout:\n  steps: [${steps.value}]\n  wait_s: ${wait.value || 0}\n  max_failed_percent: ${maxFailed.value || 0}\n`;
    const text = editor.textarea.value.trim();
    void write(`${text === '{}' || text === '' ? '' : `${text}\n`}${plan}`);
  });

  void (async () => {
    try {
      const reply = await call<string>(path, { accept: 'application/yaml' });
      version = reply.version;
      editor.setText(reply.body);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && groupName !== null) {
        editor.setText(NEW_GROUP);
        setText(status, `No group ${groupName} yet: write its selector and config, preview, then save to create it`);
      } else setText(status, `Could not load ${title}: ${describe(error)}`);
    }
  })();
  return () => undefined;
}
