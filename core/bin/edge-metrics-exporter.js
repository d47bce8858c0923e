#!/usr/bin/env node
// The command's entry point. It is committed, unlike dist/, so that `npm ci` on a fresh clone links the command
// before anything is built.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write(`edge-metrics-exporter: ${cli} is missing: build it first (npm run build at the repository root)\n`);
  process.exit(1);
}
require(cli);
