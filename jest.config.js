// `npm test` at the root runs every package's suite in one jest process.
module.exports = {
  projects: ['<rootDir>/core', '<rootDir>/plugins/*', '<rootDir>/config-server', '<rootDir>/examples/edge-collector-example', '<rootDir>/deploy'],
  // Tests wait on real processes and timers; they bound their own waits, this only catches a hang.
  testTimeout: 30_000,
};
