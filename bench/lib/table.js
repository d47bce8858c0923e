'use strict';
// A plain-text table: columns as wide as their widest cell, a rule under the header, a blank line between groups.

function renderTable(header, groups) {
  const rows = [header, ...groups.flat()];
  const widths = header.map((_, column) => Math.max(...rows.map((row) => String(row[column] ?? '').length)));
  const line = (row) => row.map((cell, column) => String(cell ?? '').padEnd(widths[column])).join('  ').trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, groups.map((group) => group.map(line).join('\n')).join('\n\n')].join('\n') + '\n';
}

module.exports = { renderTable };
