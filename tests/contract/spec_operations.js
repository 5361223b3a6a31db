#!/usr/bin/env node
// Lists every operation of an OpenAPI document as JSON lines, for the
// contract tests' deprecation check (tests/support/spec_operations.h) and
// the admin API's scope check against docs/api.yaml (x-crmhub-scope):
//   {"method":"GET","path":"/v2/campaigns/{campaignId}/orders","operationId":"getOrders",
//    "deprecated":true,"shutdown":"2027-04-12","replacement":"getBusinessOrders"}
// Reads JSON or YAML; a path item given as {"$ref": "<file>"} (Yandex
// Market's multi-file layout) is read from that file, relative to the
// document. Usage: node spec_operations.js SPEC
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

function load(file) {
  const text = fs.readFileSync(file, 'utf8');
  return file.endsWith('.json') ? JSON.parse(text) : yaml.safeLoad(text);
}

const spec = process.argv[2];
if (!spec) {
  process.stderr.write('usage: spec_operations.js SPEC\n');
  process.exit(2);
}
const doc = load(spec);
const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
for (const [p, item0] of Object.entries(doc.paths || {})) {
  let item = item0;
  if (item && typeof item.$ref === 'string' && !item.$ref.startsWith('#')) {
    item = load(path.resolve(path.dirname(spec), item.$ref));
  }
  for (const m of methods) {
    const op = item && item[m];
    if (!op) continue;
    const dep = op['x-deprecation-config'] || {};
    process.stdout.write(JSON.stringify({
      method: m.toUpperCase(),
      path: p,
      operationId: op.operationId || '',
      deprecated: op.deprecated === true,
      shutdown: dep['shutdown-date'] || '',
      replacement: dep['replacement-operation-id'] || '',
      scope: op['x-crmhub-scope'] || '',
    }) + '\n');
  }
}
