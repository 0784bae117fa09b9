/**
 * `dfg demo` against a live service (the real app on an ephemeral port, real model and SQLite):
 * what it registers and enrols, the service's answers it reports, a rerun that replaces its
 * algorithms, `--reset`, `--images-only`, refusals that write nothing, and the README's
 * walk-through naming files the demo writes.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, buildTestApp, tempDir } from './helpers/app.js';
import { dfgInProcess } from './helpers/cli.js';
import { registerDemoCommand } from '../src/cli/commands/demo.js';
import { createApiClient } from '../src/api-client/index.js';
import type { DemoSummary } from '../src/cli/actions/demo.js';

const run = (args: string[]) => dfgInProcess(registerDemoCommand, ['demo', ...args]);

t.test('dfg demo registers, enrols and attributes through the API', async (t) => {
  // As `npm start` serves: calibrating on its own once enrolments settle (here after 300 ms, not 10 s).
  const { app } = await buildTestApp(t, { autoCalibrate: true, env: { DFG_AUTO_CALIBRATE_MS: '300' } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const client = createApiClient({ baseUrl: url });
  const dir = tempDir('dfg-cli-demo-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const demoAlgorithms = async () => (await client.GET('/v1/algorithms', { params: { query: { limit: 100, offset: 0 } } })).data!.items;

  // Someone else's algorithm with a demo-like name: no demo run or reset touches it.
  const bystander = await client.POST('/v1/algorithms', { body: { name: 'demo-mine', forgeryType: 'EFS', architecture: 'GAN' } });
  t.equal(bystander.response.status, 201);

  const first = await run(['--url', url, '--out', path.join(dir, 'a'), '--json']);
  t.equal(first.error, null, first.stderr);
  const summary = JSON.parse(first.stdout) as DemoSummary;
  t.equal(summary.service, url);
  t.same(summary.registered.map((a) => a.name), ['demo-000-transposed-conv', 'demo-001-pixel-shuffle', 'demo-002-latent-diffusion', 'demo-003-nearest-conv'], 'four algorithms, named demo-');
  t.equal(summary.unregistered.name, null);
  for (const a of summary.registered) {
    t.equal(a.files.length, 6, `${a.name}: 6 images written`);
    t.ok(a.files.every((f) => fs.existsSync(f) && f.startsWith(path.join(dir, 'a', 'genome'))), `${a.name}: under --out`);
    t.same(a.enrolled, { created: 5, duplicates: 0, failed: 0 }, `${a.name}: 5 enrolled, one held back`);
  }
  const listed = await demoAlgorithms();
  t.same(listed.map((a) => [a.name, a.sampleCount]).sort(), [['demo-000-transposed-conv', 5], ['demo-001-pixel-shuffle', 5], ['demo-002-latent-diffusion', 5], ['demo-003-nearest-conv', 5], ['demo-mine', 0]], 'the service holds them with their samples');
  t.same(listed.filter((a) => a.name !== 'demo-mine').map((a) => a.id).sort(), summary.registered.map((a) => a.id).sort(), 'the ids it reported');

  // The held-back image of a registered algorithm is attributed to it; the unregistered one's is unknown.
  const { registered, unregistered } = summary.answers!;
  t.equal(registered.file, summary.registered[0]!.files[5], 'the held-back image');
  t.match(registered.answer, {
    decision: 'attributed',
    algorithm: { id: summary.registered[0]!.id, name: 'demo-000-transposed-conv', forgeryType: 'EFS', architecture: 'GAN' },
    score: Number, threshold: Number, margin: Number,
    model: { id: 'residual-v3' },
    image: { width: 256, height: 256 },
  });
  t.ok(registered.answer.score >= registered.answer.threshold, `score ${registered.answer.score} reaches threshold ${registered.answer.threshold}`);
  t.equal(registered.answer.candidates[0]!.algorithm.name, 'demo-000-transposed-conv');
  t.match(summary.calibration, { version: Number, global: registered.answer.threshold }, 'it waited for the calibration of its samples, whose threshold the answers use');
  t.match(unregistered.answer, { decision: 'unknown', algorithm: null });
  t.ok(unregistered.answer.score < unregistered.answer.threshold, 'the unregistered algorithm scores below the threshold');
  t.match(first.stderr, /5\. attributing a held-back image of demo-000-transposed-conv[^\n]*\n {2}decision {3}attributed\n {2}algorithm {2}demo-000-transposed-conv \(EFS, GAN\): the algorithm that made it/, 'the steps, readable, on stderr under --json');
  t.match(first.stderr, /6\. attributing an image of the unregistered 004-bilinear-conv[^\n]*\n {2}decision {3}unknown\n/);

  // The README's walk-through names files this run wrote (same seed, same names).
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const walk = readme.slice(readme.indexOf('## Five minutes with `dfg demo`'), readme.indexOf('\n## ', readme.indexOf('## Five minutes with `dfg demo`') + 1));
  const named = [...walk.matchAll(/genome\/([\w-]+\/[\w-]+\.(?:png|jpg))/g)].map((m) => m[1]!);
  t.ok(named.length >= 3, `the walk-through names demo files: ${named.join(' ')}`);
  for (const f of named) t.ok(fs.existsSync(path.join(dir, 'a', 'genome', f)), `README names genome/${f}, which the demo writes`);

  // A rerun (smaller, readable output) replaces the earlier run's algorithms.
  const second = await run(['--url', url, '--out', path.join(dir, 'b'), '--algorithms', '1', '--samples', '1', '--wait', '0']);
  t.equal(second.error, null, second.stderr);
  t.match(second.stdout, /removed 4 demo algorithm\(s\) of an earlier run first/);
  t.match(second.stdout, /demo-000-transposed-conv +1 created, 0 duplicate, 0 failed/);
  t.match(second.stdout, /curl -s -XPOST http:\/\/127\.0\.0\.1:\d+\/v1\/attribute -F file=@.*001-pixel-shuffle-001\.png/, 'the curl line names the unregistered image');
  t.same((await demoAlgorithms()).map((a) => a.name).sort(), ['demo-000-transposed-conv', 'demo-mine']);

  // Refusals write and register nothing.
  fs.mkdirSync(path.join(dir, 'used'));
  fs.writeFileSync(path.join(dir, 'used', 'x'), '');
  t.match((await run(['--url', url, '--out', path.join(dir, 'used')])).error?.message, /--out .*used is not empty/);
  t.same(fs.readdirSync(path.join(dir, 'used')), ['x']);
  t.match((await run(['--url', 'http://127.0.0.1:9', '--out', path.join(dir, 'none')])).error?.message, /cannot reach the service at http:\/\/127\.0\.0\.1:9/);
  t.notOk(fs.existsSync(path.join(dir, 'none')), 'no images for a service it cannot reach');
  t.match((await run(['--algorithms', '0'])).error, { code: 'commander.invalidArgument' });
  t.match((await run(['--samples', '31'])).error, { code: 'commander.invalidArgument' });
  t.equal((await demoAlgorithms()).length, 2, 'nothing registered by a refusal');

  const reset = await run(['--url', url, '--reset']);
  t.equal(reset.error, null);
  t.match(reset.stdout, /^removed 1 demo algorithm\(s\) and their samples from http:\/\/127\.0\.0\.1:\d+: demo-000-transposed-conv$/m);
  t.same((await demoAlgorithms()).map((a) => a.name), ['demo-mine'], 'reset leaves algorithms the demo did not create');
  t.match((await run(['--url', url, '--reset'])).stdout, /^no demo algorithms on /m);
});

t.test('dfg demo --images-only needs no service', async (t) => {
  const dir = tempDir('dfg-cli-demo-images-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const r = await run(['--images-only', '--url', 'http://127.0.0.1:9', '--out', dir, '--algorithms', '1', '--samples', '1', '--seed', 'x']);
  t.equal(r.error, null, r.stderr);
  t.match(r.stdout, new RegExp(`^images written to ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  t.same(fs.readdirSync(dir).sort(), ['genome', 'photos']);
  const genome = fs.readdirSync(path.join(dir, 'genome')).sort();
  t.equal(genome.length, 3, 'two algorithms and genome.json');
  t.ok(genome.includes('genome.json'));
  for (const a of genome.filter((g) => g !== 'genome.json')) t.equal(fs.readdirSync(path.join(dir, 'genome', a)).length, 2, `${a}: 2 images`);
  t.equal(fs.readdirSync(path.join(dir, 'photos')).length, 8, 'the stand-in photos');

  // Into the same folder with the same options: its images are reused; with others: refused, nothing written.
  const before = fs.readFileSync(path.join(dir, 'genome', 'genome.json'));
  const again = await run(['--images-only', '--out', dir, '--algorithms', '1', '--samples', '1', '--seed', 'x']);
  t.equal(again.error, null, again.stderr);
  t.match(again.stdout, /the images an earlier run wrote there with these options/);
  t.same(fs.readFileSync(path.join(dir, 'genome', 'genome.json')), before);
  const other = await run(['--images-only', '--out', dir, '--algorithms', '1', '--samples', '1', '--seed', 'y']);
  t.match(other.error?.message, /is not empty and holds no demo images made with these options/);
  t.same(fs.readdirSync(dir).sort(), ['genome', 'photos'], 'nothing added');
});
