import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { generateOpenApiYaml, withErrorTable } from '../src/openapi.js';
import { ERRORS } from '../src/errors.js';
import { ROOT } from './helpers/app.js';
import { API_TYPES_FILE, generateApiTypes } from '../scripts/api-types.js';

t.test('openapi.yaml is generated from the route schemas and committed fresh', async (t) => {
  const generated = await generateOpenApiYaml();
  const committed = fs.readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8');
  t.equal(committed, generated, 'openapi.yaml is stale: run `npm run openapi` and commit it');
});

t.test('the client types (src/api-client/schema.ts) are generated from openapi.yaml and committed fresh', async (t) => {
  const yaml = fs.readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8');
  const committed = fs.readFileSync(path.join(ROOT, API_TYPES_FILE), 'utf8');
  t.equal(committed, await generateApiTypes(yaml), `${API_TYPES_FILE} is stale: run \`npm run openapi\` and commit it`);
});

t.test('every route has operationId, tags, summary and responses; every error code is documented', async (t) => {
  const doc = YAML.parse(await generateOpenApiYaml());
  const ids = new Set<string>();
  for (const [p, ops] of Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [method, op] of Object.entries(ops)) {
      t.type(op.operationId, 'string', `${method} ${p} operationId`);
      t.notOk(ids.has(op.operationId as string), `${op.operationId} unique`);
      ids.add(op.operationId as string);
      t.ok(Array.isArray(op.tags) && (op.tags as unknown[]).length > 0, `${method} ${p} tags`);
      t.type(op.summary, 'string', `${method} ${p} summary`);
      t.ok(op.responses && Object.keys(op.responses as object).length > 0, `${method} ${p} responses`);
    }
  }
  const errorSchema = doc.components.schemas.Error;
  const codes = new Set(errorSchema.properties.code.anyOf?.map((x: { enum?: string[]; const?: string }) => x.enum?.[0] ?? x.const) ?? errorSchema.properties.code.enum);
  for (const code of Object.keys(ERRORS)) {
    t.ok(codes.has(code), `${code} in the Error schema`);
    t.match(doc.info.description, code, `${code} documented in the description`);
  }
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  t.equal(readme, withErrorTable(readme), "README's error table is stale: run `npm run openapi`");
  for (const code of Object.keys(ERRORS)) t.match(readme, code, `${code} documented in README`);
  t.ok(doc.paths['/v1/attribute'].post.requestBody.content['multipart/form-data'], 'multipart body documented');
});

t.test('openapi.yaml passes Redocly lint (recommended rules, warnings included)', async (t) => {
  const cli = path.join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
  const run = spawnSync(process.execPath, [cli, 'lint', 'openapi.yaml', '--format=json'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  const out = run.stdout.slice(run.stdout.indexOf('{'));
  const report = JSON.parse(out) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; message: string }> };
  t.same(report.problems.map((p) => `${p.ruleId}: ${p.message}`), [], 'no problem');
  t.same(report.totals, { ...report.totals, errors: 0, warnings: 0 });
  t.equal(run.status, 0, 'redocly lint exits 0');
});
