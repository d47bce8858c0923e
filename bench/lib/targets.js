'use strict';
// The targets of the issue, and the verdict on a measured value.

const MIB = 2 ** 20;

const TARGETS = {
  vsNodeExporter: { atLeast: 10, text: '≥ 10× node_exporter' },
  vsBare: { atLeast: 0.5, text: '≥ 0.5× bare' },
  p99At1000SeriesMs: { atMost: 5, text: 'p99 < 5 ms' },
  rssIdleBytes: { atMost: 55 * MIB, text: '< 55 MiB' },
  rssAfterLoadBytes: { atMost: 70 * MIB, text: '< 70 MiB' },
  peakRssBytes: { atMost: 70 * MIB, text: '< 70 MiB' },
  idleCorePercent: { atMost: 0.25, text: '< 0.25 % (9 CPU s/h)' },
  startupMs: { atMost: 300, text: '< 0.3 s' },
  configReachMs: { atMost: 1000, text: '< 1 s' },
  groupReachMs: { atMost: 500, text: '< 0.5 s' },
  layerQueryMs: { atMost: 1000, text: '< 1 s' },
  pushExtraCorePercent: { atMost: 0.1, text: '≤ 0.1 % of a core' },
  drainSamplesPerSecond: { atLeast: 100_000, text: '≥ 100,000 samples/s' },
  // V8's heap after a full collection moves by some kilobytes on its own, and caches fill in the first cycles;
  // a leak of one small object (16 bytes or more) per cycle adds more than 64 KiB over the last 5,000 of the
  // default 10,000 cycles.
  heapSecondHalfGrowthBytes: { atMost: 64 * 1024, text: 'none (< 64 KiB)' },
};

/** Whether `value` meets `target`, and by how far it clears or misses it. */
function verdict(value, target) {
  if (target.atLeast !== undefined) {
    const ratio = value / target.atLeast;
    return ratio >= 1 ? `met, ${ratio.toFixed(1)}× the minimum` : `MISSED, ${percent(1 - ratio)} short`;
  }
  const ratio = value / target.atMost;
  return ratio <= 1 ? `met, ${percent(1 - ratio)} under` : `MISSED, ${percent(ratio - 1)} over`;
}

function percent(fraction) {
  const value = fraction * 100;
  return `${value.toFixed(value < 1 ? 1 : 0)} %`;
}

module.exports = { TARGETS, verdict, MIB };
