'use strict';
// A made-up device whose only cost is its number of series, so that the exporter's own cost per series shows.
// The series are spread over ten families (`synthetic_family0_watts` ... `synthetic_family9_watts`), one
// `channel` label each, and their values change every cycle, as a real device's do.

const FAMILIES = 10;

const manifest = {
  name: 'edge-collector-synthetic',
  apiVersion: 1,
  deviceTypes: ['synthetic'],
  metrics: [
    { name: 'synthetic_family{N}_watts', help: 'A made-up power reading', type: 'gauge', unit: 'watts', labels: ['channel'] },
  ],
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      series: { type: 'integer', minimum: 1, maximum: 1000000, default: 100, description: 'How many series to report' },
    },
  },
};

/** The metric names the plugin reports, for a config's `metrics:` map. */
const familyNames = Array.from({ length: FAMILIES }, (_, family) => `synthetic_family${family}_watts`);

function create(options) {
  const names = Array.from({ length: options.series }, (_, index) => familyNames[index % FAMILIES]);
  const channels = names.map((_, index) => String(index));
  let cycle = 0;
  return {
    collect() {
      cycle++;
      return names.map((name, index) => ({ name, value: ((cycle + index) % 1000) / 10, labels: { channel: channels[index] } }));
    },
  };
}

module.exports = { manifest, create, familyNames };
