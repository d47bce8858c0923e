// What core's generators share: the built first-party plugins, and writing or checking the file they generate.
'use strict';
const { existsSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const PLUGINS = join(__dirname, '..', '..', 'plugins');

/** Each built plugin under plugins/*, in folder order, with its package name. */
function builtFirstPartyPlugins() {
  const plugins = [];
  for (const dir of readdirSync(PLUGINS).sort()) {
    const packageJson = join(PLUGINS, dir, 'package.json');
    if (!existsSync(packageJson)) continue;
    const { name, main = 'index.js' } = JSON.parse(readFileSync(packageJson, 'utf8'));
    try {
      plugins.push({ name, plugin: require(join(PLUGINS, dir, main)) });
    } catch (error) {
      throw new Error(`cannot load ${name} from plugins/${dir}/${main} (build it first: npm run build): ${error.message}`);
    }
  }
  return plugins;
}

/**
 * Writes `expected` to the generated file (`defaultFile`, or `--file <path>` for tests); with `--check`, leaves it
 * and returns 1 when it differs, saying `stale` on stderr. Returns the exit status.
 */
function writeOrCheck(args, defaultFile, expected, stale) {
  const fileAt = args.indexOf('--file');
  const file = fileAt === -1 ? defaultFile : args[fileAt + 1];
  if (!args.includes('--check')) {
    writeFileSync(file, expected);
    return 0;
  }
  const actual = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (actual === expected) return 0;
  process.stderr.write(`${relative(process.cwd(), file)} is stale: ${stale}\n`);
  return 1;
}

module.exports = { builtFirstPartyPlugins, writeOrCheck };
