// Tests are compiled one file at a time (no type check: `npm run build` does that).
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', esModuleInterop: true, isolatedModules: true } }],
  },
};
