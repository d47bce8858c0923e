'use strict';
// Heap growth over many collection cycles: the heap after a full garbage collection, at checkpoints through
// `cycles` cycles (each followed by the render a scrape causes), after a warm-up. A leak shows as a heap that
// keeps growing from checkpoint to checkpoint. Needs --expose-gc. Prints the results as JSON.
//
//   node --expose-gc heap-growth.js <config> <cycles>   (run from the repository root)

const { slope } = require('../lib/stats');
const { openExporter, cycleAndRender, yieldToEventLoop } = require('./in-process');

const CHECKPOINTS = 10;

function heapAfterGc() {
  // Twice: objects freed by the first collection's finalizers go in the second.
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
}

async function run(exporter, count) {
  for (let cycle = 0; cycle < count; cycle++) {
    await cycleAndRender(exporter);
    await yieldToEventLoop();
  }
}

async function main() {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  const [configPath, cyclesText] = process.argv.slice(2);
  const cycles = Number(cyclesText);
  if (!Number.isInteger(cycles) || cycles < CHECKPOINTS) throw new Error(`cycles must be an integer of at least ${CHECKPOINTS}, not '${cyclesText}'`);
  const exporter = await openExporter(configPath, process.cwd());
  try {
    const step = Math.floor(cycles / CHECKPOINTS);
    await run(exporter, step);
    const checkpoints = [[0, heapAfterGc()]];
    const started = performance.now();
    for (let done = step; done <= cycles; done += step) {
      await run(exporter, step);
      checkpoints.push([done, heapAfterGc()]);
    }
    const [, first] = checkpoints[0];
    const [, middle] = checkpoints[Math.floor(checkpoints.length / 2)];
    const [, last] = checkpoints[checkpoints.length - 1];
    process.stdout.write(
      JSON.stringify({
        cycles,
        warmupCycles: step,
        seconds: (performance.now() - started) / 1000,
        checkpoints: checkpoints.map(([cycle, heapUsedBytes]) => ({ cycle, heapUsedBytes })),
        growthBytes: last - first,
        // Caches and compiled code settle in the first cycles; a leak keeps growing in the second half too.
        secondHalfGrowthBytes: last - middle,
        bytesPerCycle: slope(checkpoints),
      }) + '\n',
    );
  } finally {
    await exporter.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
