// Shared jest settings: each package's jest.config.js calls this with its own folder.
const path = require('node:path');

module.exports = (dir) => ({
  displayName: require(path.join(dir, 'package.json')).name,
  rootDir: dir,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.jest.json') }],
  },
});
