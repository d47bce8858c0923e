#!/usr/bin/env node
// Writes core/schemas/config.schema.json (published with core, read by editors and tools) from the schema defined in
// core/src/config/schema.ts, as built in core/dist: run `npm run generate:schema` after changing that schema.
'use strict';
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { configSchemaJson } = require('../dist/config/schema.js');

writeFileSync(join(__dirname, '..', 'schemas', 'config.schema.json'), configSchemaJson());
