// Shared jest settings: each package's jest.config.js calls this with its own folder.
const { existsSync } = require('node:fs');
const path = require('node:path');

module.exports = (dir) => ({
  displayName: existsSync(path.join(dir, 'package.json')) ? require(path.join(dir, 'package.json')).name : path.basename(dir),
  rootDir: dir,
  testEnvironment: 'node',
  // Tests wait on real processes and timers; they bound their own waits, this only catches a hang.
  testTimeout: 30_000,
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.jest.json') }],
  },
});
