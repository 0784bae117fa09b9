/**
 * Feedback and the audit trail over HTTP, end to end: a gallery imports a signed bundle, registers
 * and enrols, attributes, takes analysts' verdicts (one of which enrols the upload), calibrates
 * (the verdicts move the thresholds) and switches models; the audit trail lists every one of those
 * changes with the key that made it.
 */
import t from 'tap';
import fs from 'node:fs';
import { signingFiles } from './helpers/signing.js';
import { buildTestApp, tempDir } from './helpers/app.js';
import { files } from './helpers/multipart.js';
import { generatorImage } from './helpers/images.js';
import { generateKey } from '../src/http/plugins/auth.js';
import { enrolImages } from '../src/use-cases/enrol.js';
import { openGallery } from '../src/gallery/gallery.js';
import { createAttributionRecorder, PAUSE_AFTER_FAILURE_MS } from '../src/use-cases/attribution-recorder.js';
import { randomUnit, rng } from './helpers/gallery.js';

t.test('import, register, enrol, attribute, feedback, calibrate, switch: all audited', async (t) => {
  const dir = tempDir('dfg-http-feedback-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { keyFile, trusted } = signingFiles(dir, 'org-a');
  const admin = generateKey('ops', ['admin']);
  const curator = generateKey('curator', ['register']);
  const caller = generateKey('tns', ['attribute']);
  const keys = [admin.entry, curator.entry, caller.entry];
  const as = (k: { key: string }) => ({ authorization: `Bearer ${k.key}` });
  const upload = (k: { key: string }, ...items: Array<[string, Buffer]>) => {
    const mp = files(...items);
    return { payload: mp.payload, headers: { ...mp.headers, ...as(k) } };
  };

  // The publisher: one algorithm, exported with its vectors.
  const a = await buildTestApp(t, { keys, env: { DFG_MODEL: 'residual-v2', DFG_SIGNING_KEY_FILE: keyFile } });
  const nearestA = await a.services.use(async (parts) => {
    const x = await parts.gallery.createAlgorithm({ name: 'Nearest', forgeryType: 'EFS', architecture: 'GAN' });
    await enrolImages(parts, x.id, await Promise.all([1, 2, 3].map(async (s) => ({ filename: `n${s}.png`, bytes: await generatorImage('nearest2', s) }))));
    return x.id;
  });
  const bundle = (await a.app.inject({ method: 'GET', url: `/v1/exports?algorithms=${nearestA}`, headers: as(admin) })).rawPayload;

  const b = await buildTestApp(t, { keys, env: { DFG_MODEL: 'residual-v2', DFG_TRUSTED_PUBLISHERS: trusted } });
  const imported = await b.app.inject({ method: 'POST', url: '/v1/imports', headers: { ...as(admin), 'content-type': 'application/octet-stream' }, payload: bundle });
  t.equal(imported.statusCode, 200, imported.body.slice(0, 300));
  const nearest = imported.json().algorithms[0].id as string;
  const bilinear = (await b.app.inject({ method: 'POST', url: '/v1/algorithms', headers: as(curator), payload: { name: 'Bilinear', forgeryType: 'FS', architecture: 'CNN' } })).json().id as string;
  const enrolled = await b.app.inject({
    method: 'POST', url: `/v1/algorithms/${bilinear}/samples`,
    ...upload(curator, ...await Promise.all([11, 12, 13].map(async (s) => [`b${s}.png`, await generatorImage('bilinear4', s)] as [string, Buffer]))),
  });
  t.equal(enrolled.statusCode, 201, enrolled.body.slice(0, 300));

  // Answers carry an id (threshold 0: each is attributed to its best algorithm).
  const attribute = async (img: Buffer) => (await b.app.inject({ method: 'POST', url: '/v1/attribute?threshold=0', ...upload(caller, ['p.png', img]) })).json();
  const p1 = await attribute(await generatorImage('nearest2', 40));
  const p2 = await attribute(await generatorImage('bilinear4', 41));
  const p3 = await attribute(await generatorImage('bilinear4', 42));
  for (const p of [p1, p2, p3]) t.match(p, { attributionId: /^att_[a-z2-7]{16}$/, decision: 'attributed' });
  t.same([p1.algorithm.id, p2.algorithm.id, p3.algorithm.id], [nearest, bilinear, bilinear]);
  const batch = (await b.app.inject({ method: 'POST', url: '/v1/attribute/batch', ...upload(caller, ['x.png', await generatorImage('nearest2', 43)], ['y.png', await generatorImage('camera', 44)]) })).json();
  const batchIds = batch.results.map((r: { result: { attributionId: string } }) => r.result.attributionId);
  t.ok(batchIds.every((id: string) => /^att_/.test(id)) && new Set([...batchIds, p1.attributionId]).size === 3, 'each batch item has its own id');

  const dryRun = async () => (await b.app.inject({ method: 'POST', url: '/v1/calibration', headers: as(admin), payload: { dryRun: true } })).json();
  const before = await dryRun();
  t.same(before.feedback, { confirmed: 0, rejected: 0, relabelled: 0, precision: null, used: { genuine: 0, impostors: 0 } });

  const feedback = (id: string, body: object, k = curator) => b.app.inject({ method: 'POST', url: `/v1/attributions/${id}/feedback`, headers: as(k), payload: body });
  // Refusals, each with its code, none recorded.
  t.match((await feedback('att_aaaaaaaaaaaaaaaa', { verdict: 'confirm' })).json(), { statusCode: 404, code: 'DFG_ERR_ATTRIBUTION_NOT_FOUND' });
  t.match((await feedback(p2.attributionId, { verdict: 'maybe' })).json(), { statusCode: 400, code: 'DFG_ERR_REQUEST_INVALID' });
  t.match((await feedback(p2.attributionId, { verdict: 'reject', extra: 1 })).json(), { statusCode: 400, code: 'DFG_ERR_REQUEST_INVALID' });
  t.match((await feedback(p2.attributionId, { verdict: 'relabel' })).json(), { statusCode: 400, code: 'DFG_ERR_FEEDBACK_INVALID' });
  t.match((await feedback(p2.attributionId, { verdict: 'relabel', algorithmId: 'alg_nope' })).json(), { statusCode: 404, code: 'DFG_ERR_ALGORITHM_NOT_FOUND' });
  t.match((await feedback(p2.attributionId, { verdict: 'relabel', algorithmId: bilinear })).json(), { statusCode: 400, code: 'DFG_ERR_FEEDBACK_INVALID' }, 'relabel to the same algorithm');
  t.match((await feedback(p2.attributionId, { verdict: 'reject', enrol: true })).json(), { statusCode: 400, code: 'DFG_ERR_FEEDBACK_INVALID' });
  t.match((await feedback(p2.attributionId, { verdict: 'confirm', algorithmId: nearest })).json(), { statusCode: 400, code: 'DFG_ERR_FEEDBACK_INVALID' });
  t.match((await feedback(p2.attributionId, { verdict: 'reject' }, caller)).json(), { statusCode: 403, code: 'DFG_ERR_AUTH_FORBIDDEN' });

  // p2 was wrongly attributed to Bilinear (say an analyst knows better): an impostor score for it.
  const rejected = await feedback(p2.attributionId, { verdict: 'reject' });
  t.equal(rejected.statusCode, 201, rejected.body);
  t.same(rejected.json(), { attributionId: p2.attributionId, decision: 'attributed', attributed: bilinear, verdict: 'reject', algorithmId: bilinear, enrolled: null });
  t.match((await feedback(p2.attributionId, { verdict: 'confirm' })).json(), { statusCode: 409, code: 'DFG_ERR_FEEDBACK_EXISTS' }, 'one verdict per answer');

  const after = await dryRun();
  t.same(after.feedback.used, { genuine: 0, impostors: 1 });
  t.ok(after.global > before.global, `the rejected answer raised the threshold (${before.global} → ${after.global}) past its score ${p2.score}`);
  t.ok(after.global > p2.score, 'so that the same upload would not be attributed again');

  const confirmed = await feedback(p1.attributionId, { verdict: 'confirm', enrol: true });
  t.equal(confirmed.statusCode, 201, confirmed.body);
  t.match(confirmed.json(), { verdict: 'confirm', algorithmId: nearest, enrolled: { sampleId: /^smp_/, duplicate: false } });
  const sample = (await b.app.inject({ method: 'GET', url: `/v1/algorithms/${nearest}/samples?limit=50`, headers: as(curator) })).json().items
    .find((s: { id: string }) => s.id === confirmed.json().enrolled.sampleId);
  t.match(sample, { sha256: p1.image.sha256, filename: `attribution ${p1.attributionId}`, provenance: null }, 'the upload became a sample of Nearest');
  const relabelled = await feedback(p3.attributionId, { verdict: 'relabel', algorithmId: nearest });
  t.match(relabelled.json(), { verdict: 'relabel', attributed: bilinear, algorithmId: nearest, enrolled: null });

  const stored = await b.app.inject({ method: 'POST', url: '/v1/calibration', headers: as(admin), payload: {} });
  t.equal(stored.statusCode, 201);
  t.same(stored.json().feedback, { confirmed: 1, rejected: 1, relabelled: 1, precision: 1 / 3, used: { genuine: 1, impostors: 1 } },
    'the enrolled confirmation is a sample now, not a pair');
  const current = (await b.app.inject({ method: 'GET', url: '/v1/calibration', headers: as(curator) })).json();
  t.same(current.feedback, stored.json().feedback, 'GET reports it too');
  t.match(current.perAlgorithm.find((r: { algorithmId: string }) => r.algorithmId === nearest), { feedback: { genuine: 1, impostors: 0 } });

  const switched = await b.app.inject({ method: 'PUT', url: '/v1/model', headers: as(admin), payload: { model: 'residual-v2' } });
  t.equal(switched.statusCode, 200, switched.body.slice(0, 200));

  const trail = (await b.app.inject({ method: 'GET', url: '/v1/audit?limit=1000', headers: as(admin) })).json().items as Array<{ action: string; keyId: string | null; subject: string; detail: Record<string, unknown> }>;
  const rows = trail.map((r) => [r.action, r.keyId, r.subject, (r.detail.context as Record<string, unknown> | undefined) ?? null]);
  const bundleId = imported.json().bundleId;
  t.same(rows, [
    ['algorithm.create', 'ops', nearest, { import: bundleId }],
    ['samples.enrol', 'ops', nearest, { import: bundleId }],
    ['bundle.import', 'ops', bundleId, null],
    ['algorithm.create', 'curator', bilinear, null],
    ['samples.enrol', 'curator', bilinear, null],
    ['attribution.feedback', 'curator', p2.attributionId, null],
    ['samples.enrol', 'curator', nearest, { attribution: p1.attributionId }],
    ['attribution.feedback', 'curator', p1.attributionId, null],
    ['attribution.feedback', 'curator', p3.attributionId, null],
    ['calibration.save', 'ops', b.services.peek().gallery!.modelId, null],
    ['model.switch', 'ops', 'residual-v2', null],
  ], 'every change, in order, with the key that made it');
  t.match(trail[2]!.detail, { publisher: 'org-a', created: 3, algorithms: [{ name: 'Nearest', action: 'created', id: nearest, created: 3 }] });
  t.match(trail[9]!.detail, { feedback: { genuine: 1, impostors: 1 } });
  t.match(trail[10]!.detail, { list: 'residual-v2', forced: false, previous: null });
});

t.test('the recorder: one transaction for concurrent answers; none kept with retention 0 or a failed store', async (t) => {
  const g = await openGallery({ dir: tempDir('dfg-recorder-'), modelId: 'm', dim: 8 });
  let transactions = 0;
  const counted = { modelId: g.modelId, recordAttributions: (rows: Parameters<typeof g.recordAttributions>[0]) => (transactions++, g.recordAttributions(rows)) };
  const warnings: unknown[] = [];
  const log = { warn: (obj: object) => warnings.push(obj) };
  const answer = (i: number) => ({ decision: 'unknown' as const, algorithm: null, score: 0.1 * i, threshold: 0.5, candidates: [], image: { sha256: 'b'.repeat(64), width: 8, height: 8 } });
  const recorder = createAttributionRecorder({ retentionDays: 30, log });
  const ids = await Promise.all([1, 2, 3, 4, 5].map((i) => recorder.record(counted, answer(i), { m: randomUnit(8, rng(i)) }, null)));
  t.equal(transactions, 1, 'group commit');
  t.equal(new Set(ids).size, 5);
  for (const [i, id] of ids.entries()) t.match(await g.getAttribution(id!), { score: 0.1 * (i + 1), modelId: 'm' });
  const kept = await g.getAttribution(ids[0]!);
  t.ok(Math.abs(Date.parse(kept!.expiresAt) - Date.parse(kept!.createdAt) - 30 * 86_400_000) < 1000, 'expires after the retention');
  t.equal(await createAttributionRecorder({ retentionDays: 0, log }).record(g, answer(1), { m: randomUnit(8, rng(1)) }, null), null, 'retention 0 keeps nothing');
  let clock = Date.now();
  const paused = createAttributionRecorder({ retentionDays: 30, log, now: () => clock });
  const closed = await openGallery({ dir: tempDir('dfg-recorder-closed-'), modelId: 'm', dim: 8 });
  await closed.close();
  const failing = { modelId: closed.modelId, recordAttributions: (rows: Parameters<typeof g.recordAttributions>[0]) => (transactions++, closed.recordAttributions(rows)) };
  transactions = 0;
  t.equal(await paused.record(failing, answer(1), { m: randomUnit(8, rng(1)) }, 'k'), null, 'a store that fails costs the id, not the answer');
  t.equal(warnings.length, 1);
  clock += PAUSE_AFTER_FAILURE_MS - 1;
  t.equal(await paused.record(failing, answer(1), { m: randomUnit(8, rng(1)) }, 'k'), null);
  t.equal(transactions, 1, 'and for a while answers do not wait for it');
  clock += 2;
  t.match(await paused.record(counted, answer(1), { m: randomUnit(8, rng(1)) }, 'k'), /^att_/, 'then it is tried again');
  await g.close();
  t.equal(await recorder.record(g, answer(1), { m: randomUnit(8, rng(1)) }, 'k'), null, 'a closed gallery: no id');
});
