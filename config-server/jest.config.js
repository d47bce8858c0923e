module.exports = {
  ...require('../jest.package.js')(__dirname),
  // The console's browser code (ui/src) imports its modules as `./x.js`, as ES modules in a browser need.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};
