// `npm run test:e2e`: end-to-end suites that need more than Node (Debian's prometheus for promtool and a real
// Prometheus, the npm registry for the packaging test). `.ci/run` installs what they need.
const path = require('node:path');

module.exports = {
  displayName: 'e2e',
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/e2e/**/*.test.ts'],
  testTimeout: 300_000,
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.jest.json') }],
  },
};
