'use strict';
// The figures of a run as one SVG chart, written by hand (no charting dependency): GET /metrics req/s and p99
// against the series count (ours, the bare node:http server on the same bytes, node_exporter), and bars of idle CPU
// and RSS (ours beside a bare Node process). Panels whose section did not run are left out.

const { MIB } = require('./targets');

const PANEL = { width: 460, height: 250, left: 64, right: 16, top: 34, bottom: 42 };
const COLORS = { ours: '#1f77b4', bare: '#7f7f7f', nodeExporter: '#d62728', peak: '#9ecae1', long: '#aec7e8' };

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const label = (x, y, text, attributes = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escape(text)}</text>`;
const format = (value) => (value >= 100 ? Math.round(value).toLocaleString('en-US') : Number(value.toPrecision(2)).toString());

/** Powers of ten spanning [min, max], for logarithmic axes. */
function decades(min, max) {
  const ticks = [];
  for (let exponent = Math.floor(Math.log10(min)); exponent <= Math.ceil(Math.log10(max)); exponent++) ticks.push(10 ** exponent);
  return ticks;
}

function frame(title, originX, originY) {
  const { width, height } = PANEL;
  return [`<g transform="translate(${originX},${originY})">`, `<rect width="${width}" height="${height}" fill="white" stroke="#ddd"/>`, label(width / 2, 20, title, 'text-anchor="middle" font-weight="bold"')];
}

/** Lines on log-log axes: `lines` is [{name, color, points: [[x, y], ...]}]. */
function logLogPanel(title, xTitle, yTitle, lines, originX, originY) {
  const { width, height, left, right, top, bottom } = PANEL;
  const xs = lines.flatMap((line) => line.points.map(([x]) => x));
  const ys = lines.flatMap((line) => line.points.map(([, y]) => y));
  const xTicks = decades(Math.min(...xs), Math.max(...xs));
  const yTicks = decades(Math.min(...ys), Math.max(...ys));
  const [x0, x1, y0, y1] = [xTicks[0], xTicks.at(-1), yTicks[0], yTicks.at(-1)];
  const px = (x) => left + ((Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0) || 1)) * (width - left - right);
  const py = (y) => height - bottom - ((Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0) || 1)) * (height - top - bottom);
  const out = frame(title, originX, originY);
  for (const tick of xTicks) out.push(`<line x1="${px(tick)}" x2="${px(tick)}" y1="${top}" y2="${height - bottom}" stroke="#eee"/>`, label(px(tick), height - bottom + 14, format(tick), 'text-anchor="middle"'));
  for (const tick of yTicks) out.push(`<line x1="${left}" x2="${width - right}" y1="${py(tick)}" y2="${py(tick)}" stroke="#eee"/>`, label(left - 4, py(tick) + 4, format(tick), 'text-anchor="end"'));
  out.push(label(width / 2, height - 8, xTitle, 'text-anchor="middle"'), label(14, height / 2, yTitle, `text-anchor="middle" transform="rotate(-90 14 ${height / 2})"`));
  lines.forEach((line, index) => {
    const points = line.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    if (points.length > 1) out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${line.color}" stroke-width="2"/>`);
    for (const [x, y] of line.points) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${line.color}"/>`);
    out.push(`<rect x="${left + 8}" y="${top + 4 + index * 15}" width="10" height="10" fill="${line.color}"/>`, label(left + 22, top + 13 + index * 15, line.name));
  });
  out.push('</g>');
  return out.join('\n');
}

/** Grouped bars from 0: `groups` is [{name, bars: [{name, color, value}]}]; `limit` draws the target as a line. */
function barPanel(title, unit, groups, limit, originX, originY) {
  const { width, height, left, right, top, bottom } = PANEL;
  const max = Math.max(limit ?? 0, ...groups.flatMap((group) => group.bars.map((bar) => bar.value))) * 1.15;
  const py = (value) => height - bottom - (value / max) * (height - top - bottom);
  const groupWidth = (width - left - right) / groups.length;
  const out = frame(title, originX, originY);
  out.push(`<line x1="${left}" x2="${width - right}" y1="${py(0)}" y2="${py(0)}" stroke="#999"/>`, label(14, height / 2, unit, `text-anchor="middle" transform="rotate(-90 14 ${height / 2})"`));
  groups.forEach((group, groupIndex) => {
    const barWidth = (groupWidth - 16) / group.bars.length;
    group.bars.forEach((bar, barIndex) => {
      const x = left + groupIndex * groupWidth + 8 + barIndex * barWidth;
      out.push(`<rect x="${x.toFixed(1)}" y="${py(bar.value).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(py(0) - py(bar.value)).toFixed(1)}" fill="${bar.color}"><title>${escape(`${group.name}, ${bar.name}: ${format(bar.value)} ${unit}`)}</title></rect>`);
      out.push(label(x + barWidth / 2, py(bar.value) - 3, format(bar.value), 'text-anchor="middle" font-size="10"'));
    });
    out.push(label(left + (groupIndex + 0.5) * groupWidth, height - bottom + 14, group.name, 'text-anchor="middle"'));
  });
  if (limit !== undefined) out.push(`<line x1="${left}" x2="${width - right}" y1="${py(limit)}" y2="${py(limit)}" stroke="${COLORS.nodeExporter}" stroke-dasharray="4 3"/>`, label(width - right - 2, py(limit) - 3, `target ${format(limit)}`, 'text-anchor="end" font-size="10"'));
  const legend = groups[0]?.bars ?? [];
  legend.forEach((bar, index) => out.push(`<rect x="${left + 8 + index * 110}" y="${height - 16}" width="10" height="10" fill="${bar.color}"/>`, label(left + 22 + index * 110, height - 7, bar.name, 'font-size="11"')));
  out.push('</g>');
  return out.join('\n');
}

function scrapePanels({ nodeExporter, subjects }) {
  const synthetic = Object.values(subjects).sort((a, b) => a.series - b.series);
  const curve = (pick) => synthetic.map((result) => [result.series, pick(result)]);
  const peer = (value) => [[nodeExporter.series, value]];
  const lines = (pick, bare, peerValue) => [
    { name: 'ours', color: COLORS.ours, points: curve(pick) },
    { name: 'bare node:http, same bytes', color: COLORS.bare, points: curve(bare) },
    { name: 'node_exporter', color: COLORS.nodeExporter, points: peer(peerValue) },
  ];
  return [
    (x, y) => logLogPanel('GET /metrics requests per second', 'series', 'req/s', lines((r) => r.ours.requestsPerSecond, (r) => r.bare.requestsPerSecond, nodeExporter.requestsPerSecond), x, y),
    (x, y) => logLogPanel('GET /metrics p99 under load', 'series', 'ms', lines((r) => r.ours.p99Ms, (r) => r.bare.p99Ms, nodeExporter.p99Ms), x, y),
  ];
}

function steadyPanels(results) {
  const names = Object.keys(results);
  const cpuBars = (result) => result.windows.map((window, index) => ({ name: `${Math.round(window.windowSeconds)} s window`, color: index === 0 ? COLORS.ours : COLORS.long, value: window.corePercent }));
  const rssBars = (result) => [
    { name: 'idle', color: COLORS.ours, value: result.rssBytes / MIB },
    { name: 'peak since start', color: COLORS.peak, value: result.peakRssBytes / MIB },
  ];
  return [
    (x, y) => barPanel('CPU at idle, interval: 1 (% of a core)', '% of a core', names.map((name) => ({ name: results[name].label, bars: cpuBars(results[name]) })), 0.25, x, y),
    (x, y) => barPanel('Resident memory (MiB)', 'MiB', names.map((name) => ({ name: results[name].label, bars: rssBars(results[name]) })), 55, x, y),
  ];
}

/** The SVG text for a run's results; undefined when no charted section ran. */
function renderChart(results) {
  const { sections } = results;
  const panels = [...(sections.scrape ? scrapePanels(sections.scrape) : []), ...(sections.steady ? steadyPanels(sections.steady) : [])];
  if (panels.length === 0) return undefined;
  const columns = Math.min(2, panels.length);
  const rows = Math.ceil(panels.length / columns);
  const width = columns * (PANEL.width + 10) + 10;
  const height = rows * (PANEL.height + 10) + 40;
  const title = `Edge Metrics Exporter bench, ${results.startedAt}${results.commit ? ` at ${results.commit}` : ''}: ${results.machine.cores} × ${results.machine.cpuModel}, Node ${results.machine.node}`;
  const body = panels.map((panel, index) => panel(10 + (index % columns) * (PANEL.width + 10), 40 + Math.floor(index / columns) * (PANEL.height + 10)));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fafafa"/>`,
    label(10, 24, title, 'font-size="13"'),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

module.exports = { renderChart };
