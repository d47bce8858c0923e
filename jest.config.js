// `npm test` at the root runs every package's suite in one jest process.
module.exports = {
  projects: ['<rootDir>/core', '<rootDir>/plugins/*', '<rootDir>/config-server'],
};
