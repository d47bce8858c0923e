/** `#/rollouts/<id>`: a staged rollout's progress, watched until it ends, with resume, abort and rollback. */

import { call, describe } from './api.js';
import { el, href, replaceChildren, setText, statusLine, when } from './dom.js';
import type { Rollout } from './types.js';

const ACTIONS: Array<{ action: 'resume' | 'abort' | 'rollback'; text: string; allowed: Array<Rollout['state']> }> = [
  { action: 'resume', text: 'Resume (next step now)', allowed: ['halted'] },
  { action: 'abort', text: 'Abort (stop where it stands)', allowed: ['running', 'halted'] },
  { action: 'rollback', text: 'Roll back (previous layer content)', allowed: ['running', 'halted', 'completed', 'aborted'] },
];

export function rolloutView(main: HTMLElement, id: string): () => void {
  const path = `/rollouts/${encodeURIComponent(id)}`;
  const facts = el('dl', { class: 'summary' });
  const devicesBody = el('tbody');
  const status = statusLine();
  const buttons = ACTIONS.map(({ action, text }) => {
    const button = el('button', { type: 'button', 'data-action': action }, text);
    button.addEventListener('click', () => void act(action));
    return button;
  });
  replaceChildren(
    main,
    el('p', { class: 'crumbs' }, el('a', { href: '#/layers' }, 'Layers'), ` / rollout ${id}`),
    el('h1', {}, `Rollout ${id}`),
    facts,
    el('div', { class: 'actions' }, ...buttons),
    status,
    el('table', {}, el('caption', {}, 'Devices of the rollout'), el('thead', {}, el('tr', {}, ...['Device', 'Step', 'Version', 'Status', 'Error'].map((title) => el('th', { scope: 'col' }, title)))), devicesBody),
  );

  const show = (rollout: Rollout): void => {
    const items: Array<[string, string]> = [
      ['Layer', `${rollout.layer}: version ${rollout.from_version} → ${rollout.to_version}`],
      ['State', rollout.state],
      ['Step', `${rollout.step} of ${rollout.steps.length} (${rollout.steps.join(' %, ')} %)`],
      ['Next step', rollout.next_step_at ? when(rollout.next_step_at) : '—'],
      ['Wait between steps', `${rollout.wait_s} s`],
      ['Halts above', `${rollout.max_failed_percent} % failed`],
      ['Reason', rollout.reason ?? '—'],
    ];
    replaceChildren(facts, ...items.flatMap(([term, value]) => [el('dt', {}, term), el('dd', { 'data-fact': term.toLowerCase() }, value)]));
    ACTIONS.forEach(({ allowed }, index) => (buttons[index]!.disabled = !allowed.includes(rollout.state)));
    replaceChildren(
      devicesBody,
      ...(rollout.devices ?? []).map((device) =>
        el('tr', { class: device.status }, el('th', { scope: 'row' }, el('a', { href: href('devices', device.device_id) }, device.device_id)), el('td', {}, device.step === null ? '—' : String(device.step)), el('td', {}, device.version === null ? '—' : `v${device.version}`), el('td', {}, device.status), el('td', {}, device.error ?? '')),
      ),
    );
  };

  const act = async (action: string): Promise<void> => {
    try {
      show((await call<Rollout>(`${path}/${action}`, { method: 'POST' })).body);
      setText(status, `${action}: done`);
    } catch (error) {
      setText(status, `${action} refused: ${describe(error)}`);
    }
  };

  let stopped = false;
  let timer: number | undefined;
  const poll = async (): Promise<void> => {
    try {
      const rollout = (await call<Rollout>(path)).body;
      if (!stopped) show(rollout);
    } catch (error) {
      if (!stopped) setText(status, `Could not load the rollout: ${describe(error)}`);
    }
    if (!stopped) timer = window.setTimeout(() => void poll(), 2000);
  };
  void poll();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
