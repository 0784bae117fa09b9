import t from 'tap';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from './helpers/app.js';
import { files } from './helpers/multipart.js';
import { generatorImage, type Family } from './helpers/images.js';
import { randomUnit, rng, sha } from './helpers/gallery.js';
import type { Services } from '../src/serving/services.js';

/** A debug-level logger that keeps every record. */
function recordingLog() {
  const records: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line));
      done();
    },
  });
  // Warnings of an empty gallery's first opening (no snapshot yet) are not what these tests watch.
  const watched = () => records.filter((r) => r.msg !== 'index snapshot not used; rebuilding from the store');
  return { log: pino({ level: 'debug' }, stream), records, watched };
}

async function enrol(app: FastifyInstance, family: Family, seeds: number[], algorithmId?: string): Promise<string> {
  const id = algorithmId ?? (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: family, forgeryType: 'EFS', architecture: 'GAN' } })).json().id;
  const imgs = await Promise.all(seeds.map((s) => generatorImage(family, s)));
  const r = await app.inject({ method: 'POST', url: `/v1/algorithms/${id}/samples`, ...files(...imgs.map((b, j) => [`${j}.png`, b] as [string, Buffer])) });
  if (r.statusCode !== 201) throw new Error(`enrolment: ${r.statusCode} ${r.body}`);
  return id;
}

async function until<T>(what: string, fn: () => T | undefined | null, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const current = (services: Services) => services.peek().gallery!.currentCalibration();

t.test('the server calibrates on its own once two algorithms are enrolled, and again after more samples', async (t) => {
  const { log, records, watched } = recordingLog();
  const { app, services } = await buildTestApp(t, { env: { DFG_AUTO_CALIBRATE_MS: '100' }, autoCalibrate: true, servicesLog: log });
  const a = await enrol(app, 'nearest2', [1, 2, 3, 4]);
  const b = await enrol(app, 'bilinear4', [11, 12, 13, 14]);
  const first = await until('an automatic calibration', () => current(services));
  t.equal(first.params.auto, true, 'marked automatic');
  t.same(first.params.fingerprint, { [a]: 4, [b]: 4 }, 'what it was made from');
  t.equal(first.targetFpir, 0.01, 'DFG_TARGET_FPIR');
  t.equal(first.metric?.kind, 'wccn', 'DFG_METRIC default');
  const shown = (await app.inject({ url: '/v1/gallery' })).json();
  t.equal(shown.calibration.version, first.version);
  t.equal(shown.calibration.metric.kind, 'wccn');
  const report = (await app.inject({ url: '/v1/calibration' })).json();
  t.equal(report.version, first.version, 'GET /v1/calibration shows what the server calibrated on its own');
  t.equal(report.automatic, true);
  t.ok(report.perAlgorithm.length >= 2 && report.perAlgorithm.every((r: { looRank1: number | null }) => r.looRank1 === null || (r.looRank1 >= 0 && r.looRank1 <= 1)));
  const logged = records.find((r) => r.msg === 'calibrated automatically');
  t.match(logged, { version: first.version, global: first.global, metric: 'wccn', ms: Number });

  await enrol(app, 'nearest2', [5, 6], a);
  const second = await until('a newer calibration', () => { const c = current(services); return c && c.version > first.version ? c : null; });
  t.same(second.params.fingerprint, { [a]: 6, [b]: 4 });
  t.equal(second.params.auto, true);
  await sleep(400);
  t.equal(current(services)!.version, second.version, 'an unchanged gallery is not calibrated again');
  t.same(watched().filter((r) => r.level >= 40).map((r) => r.msg), [], 'nothing logged at warn or above');
});

t.test('DFG_AUTO_CALIBRATE_MS=0 calibrates only on request', async (t) => {
  const { app, services } = await buildTestApp(t, { env: { DFG_AUTO_CALIBRATE_MS: '0' }, autoCalibrate: true });
  await enrol(app, 'nearest2', [1, 2, 3]);
  await enrol(app, 'bilinear4', [11, 12, 13]);
  await sleep(600);
  t.equal(current(services), null);
});

t.test('a gallery that cannot be calibrated yet is left alone, without errors', async (t) => {
  const { log, records, watched } = recordingLog();
  const { app, services } = await buildTestApp(t, { env: { DFG_AUTO_CALIBRATE_MS: '100' }, autoCalibrate: true, servicesLog: log });
  await enrol(app, 'nearest2', [1, 2, 3, 4]);
  await sleep(600);
  t.equal(current(services), null, 'one algorithm: nothing stored');
  t.same(watched().filter((r) => r.level >= 40).map((r) => r.msg), [], 'nothing logged at warn or above');
  t.notOk(records.some((r) => r.msg === 'automatic calibration started'), 'not even tried');
});

t.test('closing the services during an automatic calibration cancels it', async (t) => {
  const { log, records, watched } = recordingLog();
  const { services } = await buildTestApp(t, { env: { DFG_AUTO_CALIBRATE_MS: '100', DFG_KEEP_IMAGES: 'false' }, autoCalibrate: true, servicesLog: log });
  const gallery = services.need().gallery;
  const rand = rng(3);
  // Enough samples (6 × 200, the per-algorithm cap) for the calibration to take a while.
  for (let a = 0; a < 6; a++) {
    const alg = await gallery.createAlgorithm({ name: `synthetic-${a}` });
    await gallery.addSamples(alg.id, Array.from({ length: 200 }, (_, i) => ({ sha256: sha(i, a + 1), vector: randomUnit(gallery.dim, rand), width: 8, height: 8 })));
  }
  await until('the calibration to start', () => records.find((r) => r.msg === 'automatic calibration started'));
  const t0 = Date.now();
  await services.close();
  t.ok(Date.now() - t0 < 5000, `closed in ${Date.now() - t0} ms`);
  t.ok(records.some((r) => r.msg === 'automatic calibration cancelled'), 'cancelled');
  t.notOk(records.some((r) => r.msg === 'calibrated automatically'), 'nothing stored');
  t.same(watched().filter((r) => r.level >= 40).map((r) => r.msg), [], 'nothing logged at warn or above');
});

t.test('at start-up, a gallery changed since its calibration is calibrated at once', async (t) => {
  const first = await buildTestApp(t);
  await enrol(first.app, 'nearest2', [1, 2, 3]);
  await enrol(first.app, 'jpeg50', [21, 22, 23]);
  await first.app.close();
  await first.services.close();
  // A period far beyond the test: only the start-up check can calibrate.
  const config = { ...first.config, DFG_AUTO_CALIBRATE_MS: 600_000 };
  const second = await buildTestApp(t, { config, autoCalibrate: true });
  const cal = await until('the start-up calibration', () => current(second.services), 10_000);
  t.equal(cal.params.auto, true);
  await second.app.close();
  await second.services.close();
  const third = await buildTestApp(t, { config, autoCalibrate: true });
  await sleep(500);
  t.equal(current(third.services)!.version, cal.version, 'a current calibration is kept');
});

t.test('automatic calibrations keep the target FPIR and sample cap of the last requested one', async (t) => {
  const { app, services } = await buildTestApp(t, { env: { DFG_AUTO_CALIBRATE_MS: '100' }, autoCalibrate: true });
  const a = await enrol(app, 'nearest2', [1, 2, 3, 4]);
  await enrol(app, 'bilinear4', [11, 12, 13, 14]);
  const auto1 = await until('an automatic calibration', () => current(services));
  t.equal(auto1.targetFpir, 0.01, 'nothing requested yet: DFG_TARGET_FPIR');
  t.equal(auto1.params.requested, undefined);

  const asked = await app.inject({ method: 'POST', url: '/v1/calibration', payload: { targetFpir: 0.05, maxSamplesPerAlgorithm: 3 } });
  t.equal(asked.statusCode, 201);
  const manual = asked.json();

  await enrol(app, 'nearest2', [5, 6], a);
  const auto2 = await until('an automatic calibration after the request', () => { const c = current(services); return c && c.version > manual.version ? c : null; });
  t.equal(auto2.params.auto, true);
  t.equal(auto2.targetFpir, 0.05, 'the requested target, not DFG_TARGET_FPIR');
  t.equal(auto2.params.maxSamplesPerAlgorithm, 3, 'the requested cap');
  t.same(auto2.params.requested, { targetFpir: 0.05, maxSamplesPerAlgorithm: 3, version: manual.version });

  await enrol(app, 'nearest2', [7], a);
  const auto3 = await until('a second automatic calibration', () => { const c = current(services); return c && c.version > auto2.version ? c : null; });
  t.equal(auto3.targetFpir, 0.05, 'carried from one automatic calibration to the next');
  t.same(auto3.params.requested, auto2.params.requested);
  const shown = (await app.inject({ url: '/v1/calibration' })).json();
  t.equal(shown.targetFpir, 0.05);
  t.equal(shown.automatic, true);
});
