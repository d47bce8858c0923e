/**
 * The fleet: counts, then one table of every device, with search, filters and sorting. Rows are built once per
 * device and updated in place by each poll, so the operator's filter, sort and focus stay as they are.
 */

import { call, describe, type Session } from './api.js';
import { el, href, labelled, replaceChildren, select, setText, statusLine, when } from './dom.js';
import type { DeviceSummary, Power } from './types.js';

/** How often the table asks for `GET /devices` (and the power figures). */
export const POLL_MS = 3000;

type Status = 'online' | 'offline';

interface Column {
  key: string;
  title: string;
  sortValue(device: DeviceSummary, power: Power | null): string | number;
  text(device: DeviceSummary, power: Power | null): string;
}

const onlineText = (device: DeviceSummary): Status => (device.online ? 'online' : 'offline');
const groupsText = (device: DeviceSummary): string =>
  [...(device.groups ?? []), ...Object.entries(device.tags ?? {}).map(([name, value]) => `${name}=${value}`)].join(', ');
const applyText = (device: DeviceSummary): string =>
  !device.apply ? 'not reported' : device.apply.status === 'failed' ? `failed on v${device.apply.received_version}: ${device.apply.error ?? ''}` : 'applied';
const versionText = (device: DeviceSummary): string => {
  const runs = device.apply?.applied_version;
  return runs && runs !== device.version ? `v${device.version} (runs v${runs})` : `v${device.version}`;
};
const number = (value: number | null | undefined, digits: number): string => (value === null || value === undefined ? '—' : value.toFixed(digits));

const COLUMNS: Column[] = [
  { key: 'id', title: 'Device', sortValue: (d) => d.device_id, text: (d) => d.device_id },
  { key: 'type', title: 'Type', sortValue: (d) => d.device_type ?? '', text: (d) => d.device_type ?? '—' },
  { key: 'groups', title: 'Groups / tags', sortValue: groupsText, text: (d) => groupsText(d) || '—' },
  { key: 'status', title: 'Status', sortValue: onlineText, text: onlineText },
  { key: 'version', title: 'Version', sortValue: (d) => d.version, text: versionText },
  { key: 'apply', title: 'Apply', sortValue: applyText, text: applyText },
  { key: 'address', title: 'Address', sortValue: (d) => d.target ?? d.address ?? '', text: (d) => d.target ?? d.address ?? '—' },
];
const POWER_COLUMNS: Column[] = [
  { key: 'watts', title: 'Power (W)', sortValue: (d, p) => p?.devices[d.device_id]?.watts ?? -1, text: (d, p) => number(p?.devices[d.device_id]?.watts, 1) },
  { key: 'energy', title: 'Energy 24 h (Wh)', sortValue: (d, p) => p?.devices[d.device_id]?.energy_24h_wh ?? -1, text: (d, p) => number(p?.devices[d.device_id]?.energy_24h_wh, 0) },
];

interface Row {
  element: HTMLTableRowElement;
  cells: HTMLElement[];
  device: DeviceSummary;
  haystack: string;
}

/** What the operator chose; kept while the console is open, so that coming back to the fleet finds it as it was. */
const choices = { search: '', status: '', type: '', group: '', sort: 'id', descending: false };

export function fleetView(main: HTMLElement, session: Session): () => void {
  const columns = session.prometheus ? [...COLUMNS, ...POWER_COLUMNS] : COLUMNS;
  const counts = el('p', { class: 'counts', 'aria-live': 'polite' });
  const search = el('input', { type: 'search', placeholder: 'id, type, group, address, error' });
  const status = select([['', 'all'], ['online', 'online'], ['offline', 'offline'], ['failed', 'failed'], ['applied', 'applied']]);
  const type = select([['', 'all']]);
  const group = select([['', 'all']]);
  search.value = choices.search;
  status.value = choices.status;
  const message = statusLine();
  const body = el('tbody');
  const headers = columns.map((column) => {
    const button = el('button', { type: 'button', class: 'sort', 'data-sort': column.key }, column.title);
    button.addEventListener('click', () => {
      choices.descending = choices.sort === column.key ? !choices.descending : false;
      choices.sort = column.key;
      render();
    });
    return el('th', { scope: 'col' }, button);
  });
  const table = el('table', { class: 'fleet' }, el('caption', {}, 'Devices'), el('thead', {}, el('tr', {}, ...headers)), body);
  const shown = el('p', { class: 'shown' });
  replaceChildren(
    main,
    el('h1', {}, 'Fleet'),
    counts,
    el('form', { class: 'filters', role: 'search' }, labelled('Search', search, 'fleet-search'), labelled('Status', status, 'fleet-status'), labelled('Type', type, 'fleet-type'), labelled('Group', group, 'fleet-group')),
    message,
    shown,
    el('div', { class: 'table-wrap' }, table),
  );
  main.querySelector('form')!.addEventListener('submit', (event) => event.preventDefault());

  const rows = new Map<string, Row>();
  let order: Row[] = [];
  let power: Power | null = null;

  const rowFor = (device: DeviceSummary): Row => {
    let row = rows.get(device.device_id);
    if (!row) {
      const cells = columns.map((column) => el(column.key === 'id' ? 'th' : 'td', column.key === 'id' ? { scope: 'row' } : { class: column.key }));
      const link = el('a', { href: href('devices', device.device_id) });
      cells[0]!.append(link);
      row = { element: el('tr', { 'data-device': device.device_id }, ...cells), cells: [link, ...cells.slice(1)], device, haystack: '' };
      rows.set(device.device_id, row);
    }
    row.device = device;
    columns.forEach((column, index) => setText(row!.cells[index]!, column.text(device, power)));
    const online = onlineText(device);
    const failed = device.apply?.status === 'failed';
    const className = `${online}${failed ? ' failed' : ''}`;
    if (row.element.className !== className) row.element.className = className;
    row.haystack = [device.device_id, device.device_type, device.target, device.address, groupsText(device), device.apply?.error].join(' ').toLowerCase();
    return row;
  };

  const matches = (row: Row, needle: string): boolean => {
    const { device } = row;
    if (needle && !row.haystack.includes(needle)) return false;
    if (choices.status === 'online' || choices.status === 'offline') {
      if (onlineText(device) !== choices.status) return false;
    } else if (choices.status && device.apply?.status !== choices.status) return false;
    if (choices.type && device.device_type !== choices.type) return false;
    if (choices.group && !(device.groups ?? []).includes(choices.group)) return false;
    return true;
  };

  /** Sorts, filters and counts without rebuilding any row; moves rows only when their order changed. */
  const render = (): void => {
    const column = columns.find((candidate) => candidate.key === choices.sort) ?? columns[0]!;
    const sorted = [...rows.values()].sort((a, b) => {
      const x = column.sortValue(a.device, power);
      const y = column.sortValue(b.device, power);
      const byValue = x < y ? -1 : x > y ? 1 : 0;
      // Equal values stay in id order either way.
      if (byValue === 0) return a.device.device_id < b.device.device_id ? -1 : 1;
      return choices.descending ? -byValue : byValue;
    });
    if (sorted.length !== order.length || sorted.some((row, index) => row !== order[index])) {
      // Moving a row takes the focus from a link in it: give it back.
      const focused = document.activeElement;
      body.append(...sorted.map((row) => row.element));
      if (focused instanceof HTMLElement && focused !== document.activeElement && body.contains(focused)) focused.focus();
      order = sorted;
    }
    const needle = choices.search.toLowerCase();
    let visible = 0;
    for (const row of sorted) {
      const show = matches(row, needle);
      if (row.element.hidden === show) row.element.hidden = !show;
      if (show) visible += 1;
    }
    headers.forEach((header, index) => {
      if (columns[index]!.key === choices.sort) header.setAttribute('aria-sort', choices.descending ? 'descending' : 'ascending');
      else header.removeAttribute('aria-sort');
    });
    setText(shown, `Showing ${visible} of ${rows.size} devices`);
  };

  const updateCounts = (devices: DeviceSummary[]): void => {
    const online = devices.filter((device) => device.online).length;
    const failed = devices.filter((device) => device.apply?.status === 'failed').length;
    const parts: Array<[string, string]> = [
      ['online', `${online} online`],
      ['offline', `${devices.length - online} offline`],
      ['failed', `${failed} failed`],
      ['total', `${devices.length} device${devices.length === 1 ? '' : 's'}`],
    ];
    if (power) parts.push(['power', `${number(power.total_watts, 1)} W now, ${number(power.total_energy_24h_wh, 0)} Wh in 24 h`]);
    if (counts.children.length !== parts.length) replaceChildren(counts, ...parts.map(([name]) => el('span', { class: `count ${name}`, 'data-count': name })));
    parts.forEach(([, text], index) => setText(counts.children[index]!, text));
  };

  const updateOptions = (control: HTMLSelectElement, values: string[], key: 'type' | 'group'): void => {
    const wanted = ['', ...values];
    const current = [...control.options].map((option) => option.value);
    if (wanted.join('\n') !== current.join('\n')) {
      replaceChildren(control, ...wanted.map((value) => el('option', { value }, value || 'all')));
    }
    control.value = wanted.includes(choices[key]) ? choices[key] : '';
  };

  let stopped = false;
  let timer: number | undefined;
  const poll = async (): Promise<void> => {
    try {
      const [{ body: list }, powerReply] = await Promise.all([
        call<{ devices: DeviceSummary[] }>('/devices'),
        session.prometheus ? call<Power>('/ui/power').then((reply) => reply.body, (error: unknown) => (error instanceof Error ? error : new Error(String(error)))) : Promise.resolve(null),
      ]);
      if (stopped) return;
      power = powerReply instanceof Error ? null : powerReply;
      const seen = new Set<string>();
      for (const device of list.devices) {
        rowFor(device);
        seen.add(device.device_id);
      }
      for (const [id, row] of rows) {
        if (seen.has(id)) continue;
        row.element.remove();
        rows.delete(id);
      }
      updateOptions(type, [...new Set(list.devices.map((device) => device.device_type).filter((value): value is string => !!value))].sort(), 'type');
      updateOptions(group, [...new Set(list.devices.flatMap((device) => device.groups ?? []))].sort(), 'group');
      updateCounts(list.devices);
      render();
      setText(message, powerReply instanceof Error ? `Power figures unavailable: ${describe(powerReply)}` : `Updated ${when(new Date().toISOString())}`);
    } catch (error) {
      if (!stopped) setText(message, `Could not update the fleet: ${describe(error)}`);
    }
    if (!stopped) timer = window.setTimeout(() => void poll(), POLL_MS);
  };

  const onFilter = (): void => {
    choices.search = search.value;
    choices.status = status.value;
    choices.type = type.value;
    choices.group = group.value;
    render();
  };
  search.addEventListener('input', onFilter);
  for (const control of [status, type, group]) control.addEventListener('change', onFilter);
  void poll();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
