#!/usr/bin/env node
// Makes a new plugin package from core/template/plugin: `npm run new-plugin -- <name> [folder]`.
// <name> is the short name (`acme-meter` → package edge-collector-acme-meter, device type and metric prefix
// acme_meter); `@scope/acme-meter` makes @scope/edge-collector-acme-meter. The folder defaults to plugins/<name>
// in this repository, where the package joins the workspace; any other folder gets a package of its own.
'use strict';
const { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');

const REPO = resolve(__dirname, '..', '..');
const TEMPLATE = join(__dirname, '..', 'template', 'plugin');
const NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?([a-z][a-z0-9-]*)$/;

function placeholders(reference) {
  const [, scope = '', name] = NAME.exec(reference);
  const short = name.replace(/^edge-collector-/, '');
  const prefix = short.replace(/-/g, '_');
  return {
    __PACKAGE__: `${scope}edge-collector-${short}`,
    __NAME__: short,
    __PREFIX__: prefix,
    __TYPE__: prefix.split('_').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join(''),
  };
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .map((file) => join(dir, file))
    .filter((file) => statSync(file).isFile());
}

/** In this repository's plugins/ folder the package builds and tests as the other plugins do. */
function joinWorkspace(target) {
  writeFileSync(
    join(target, 'tsconfig.json'),
    JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'], references: [{ path: '../../core' }] }, null, 2) + '\n',
  );
  writeFileSync(join(target, 'jest.config.js'), "module.exports = require('../../jest.package.js')(__dirname);\n");
  const packageJsonFile = join(target, 'package.json');
  const packageJson = JSON.parse(readFileSync(packageJsonFile, 'utf8'));
  packageJson.scripts.build = 'tsc --build';
  packageJson.devDependencies = { '@edge-metrics/core': packageJson.devDependencies['@edge-metrics/core'] };
  writeFileSync(packageJsonFile, JSON.stringify(packageJson, null, 2) + '\n');
  const rootTsconfigFile = join(REPO, 'tsconfig.json');
  const rootTsconfig = JSON.parse(readFileSync(rootTsconfigFile, 'utf8'));
  const path = relative(REPO, target);
  if (!rootTsconfig.references.some((reference) => reference.path === path)) {
    const configServer = rootTsconfig.references.findIndex((reference) => !reference.path.startsWith('plugins/'));
    rootTsconfig.references.splice(configServer === -1 ? rootTsconfig.references.length : configServer, 0, { path });
    writeFileSync(rootTsconfigFile, JSON.stringify(rootTsconfig, null, 2) + '\n');
  }
}

function main([reference, folder]) {
  if (!reference || !NAME.test(reference)) {
    process.stderr.write('usage: npm run new-plugin -- <name> [folder]   (name: lower case letters, digits and -, e.g. acme-meter)\n');
    return 2;
  }
  const values = placeholders(reference);
  const target = resolve(folder ?? join(REPO, 'plugins', values.__NAME__));
  if (existsSync(target) && readdirSync(target).length > 0) {
    process.stderr.write(`new-plugin: ${target} exists and is not empty; choose another folder\n`);
    return 1;
  }
  cpSync(TEMPLATE, target, { recursive: true });
  for (const file of filesUnder(target)) {
    const text = readFileSync(file, 'utf8');
    const filled = text.replace(/__(PACKAGE|NAME|PREFIX|TYPE)__/g, (token) => values[token]);
    if (filled !== text) writeFileSync(file, filled);
  }
  const inWorkspace = dirname(target) === join(REPO, 'plugins');
  if (inWorkspace) joinWorkspace(target);
  const next = inWorkspace
    ? 'npm install && npm run build && npm run generate:plugins && npx jest ' + relative(process.cwd(), target)
    : `cd ${relative(process.cwd(), target) || '.'} && npm install && npm run build && npm test`;
  process.stdout.write(`made ${values.__PACKAGE__} in ${target} (device type ${values.__PREFIX__})\nnext: ${next}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
