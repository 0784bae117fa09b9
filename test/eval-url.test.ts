import t from 'tap';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { buildTestApp } from './helpers/app.js';
import { generatorImage, type Family } from './helpers/images.js';
import { generateKey } from '../src/http/plugins/auth.js';
import { runServiceEvaluation, type ServiceEvalOptions } from '../src/evaluation/remote/index.js';
import { answerOutcome, foreignLabel } from '../src/evaluation/remote/answers.js';
import { retryAfterSeconds, serviceBase } from '../src/evaluation/remote/client.js';
import { serviceNames, serviceTaxonomy } from '../src/evaluation/remote/registry.js';
import { runEvaluation } from '../src/evaluation/run.js';
import { writeReport, summaryTable } from '../src/evaluation/report.js';
import { UNKNOWN_LABEL } from '../src/evaluation/evaluate-split.js';
import type { Report, Stat } from '../src/evaluation/types.js';

// Four synthetic "generators" with traces the default model separates (see helpers/images.ts), three
// source groups of three tiles each, plus one file no service can read.
const CLASSES: { name: string; family: Family; forgeryType: string; architecture: string }[] = [
  { name: 'camera', family: 'camera', forgeryType: 'authentic', architecture: 'authentic' },
  { name: 'nearest-x2', family: 'nearest2', forgeryType: 'EFS', architecture: 'GAN' },
  { name: 'bilinear-x4', family: 'bilinear4', forgeryType: 'EFS', architecture: 'Diffusion' },
  { name: 'jpeg-q50', family: 'jpeg50', forgeryType: 'FE', architecture: 'CNN' },
];

async function makeDataset(): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'dfg-eval-url-'));
  const genome: Record<string, object> = {};
  let seed = 1;
  for (const c of CLASSES) {
    genome[c.name] = { forgeryType: c.forgeryType, architecture: c.architecture, family: c.family };
    await fs.mkdir(path.join(root, c.name));
    for (let g = 0; g < 3; g += 1) {
      for (let k = 0; k < 3; k += 1) {
        await fs.writeFile(path.join(root, c.name, `src${g}__t0${k}.png`), await generatorImage(c.family, (seed += 1), 128));
      }
    }
  }
  await fs.writeFile(path.join(root, 'genome.json'), JSON.stringify({ algorithms: genome }));
  await fs.writeFile(path.join(root, 'jpeg-q50', 'broken__t00.png'), 'not an image at all');
  return root;
}

type App = Awaited<ReturnType<typeof buildTestApp>>['app'];

async function listen(app: App): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address() as { port: number };
  return `http://127.0.0.1:${addr.port}`;
}

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const algorithms = async (app: App, key: string) => (await app.inject({ url: '/v1/algorithms?limit=500', headers: as(key) })).json() as { total: number; items: { id: string; name: string; forgeryType: string; architecture: string; sampleCount: number; enabled: boolean }[] };
const stats = (r: Report): Stat[] => [r.rank1, r.rank5, r.mAP, r.auroc, r.oscr, r.macroF1, ...Object.values(r.dirAtFpir)];

t.test('service evaluation: same splits as the library, sensible numbers, every algorithm deleted, key sent', async (t) => {
  const root = await makeDataset();
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const evalKey = generateKey('eval', ['register', 'attribute']);
  const attrKey = generateKey('platform', ['attribute']);
  const { app, services } = await buildTestApp(t, { keys: [evalKey.entry, attrKey.entry], env: { DFG_THRESHOLD: '0.3' } });
  const url = await listen(app);
  const protocol = { dataDir: root, shots: 3, unknownFraction: 0.34, seed: 'url', repeats: 2 };
  const base: ServiceEvalOptions = { ...protocol, url, apiKey: evalKey.key, maxBytes: 1 << 20 };

  await t.rejects(runServiceEvaluation({ ...base, apiKey: undefined }), { code: 'DFG_ERR_AUTH_MISSING_KEY' }, 'the service wants a key');
  await t.rejects(runServiceEvaluation({ ...base, apiKey: attrKey.key }), { code: 'DFG_ERR_AUTH_FORBIDDEN' }, 'attribute scope alone cannot register');

  // While a repeat runs, its classes are in the service under the run's prefix (read synchronously
  // from the gallery inside the progress callback, so no request races the cleanup).
  // (The SQLite store answers within the call: the promise only carries what it read then.)
  const reads: Promise<{ name: string; forgeryType: string; architecture: string }[]>[] = [];
  const phases = new Set<string>();
  const report = await runServiceEvaluation({
    ...base,
    onProgress: (e) => {
      phases.add(e.phase);
      if (e.phase === 'service' && e.file.endsWith('src0__t00.png')) reads.push(services.need().gallery.listAlgorithms({ limit: 500, offset: 0 }).then((p) => p.items));
    },
  });
  t.same([...phases], ['check', 'service'], 'progress for the check, then the repeats');
  t.equal((await algorithms(app, evalKey.key)).total, 0, 'every algorithm the run registered is deleted');

  t.equal(report.model.id, 'residual-v3', "the service's model is reported");
  t.equal(report.mAPBasis, 'algorithms');
  t.ok(report.service, 'service section');
  const s = report.service!;
  t.equal(s.url, url);
  t.match(s.runId, /^[0-9a-f]{8}$/);
  const during = await Promise.all(reads);
  t.ok(during.length >= 2, 'looked into the gallery during the repeats');
  for (const seen of during) {
    t.equal(seen.length, 3, 'three registered classes (camera and two generators)');
    for (const a of seen) t.match(a.name, new RegExp(`^eval-${s.runId}-(camera|nearest-x2|bilinear-x4|jpeg-q50)$`));
    const cam = seen.find((a) => a.name.endsWith('-camera'))!;
    t.same([cam.forgeryType, cam.architecture], ['authentic', 'authentic'], 'taxonomy from genome.json');
  }
  t.equal(s.thresholdSource, 'configured', 'no calibration stored: the configured threshold decides');
  t.equal(s.decision.threshold, 0.3);
  t.equal(report.protocol.targetFpir, null);
  t.equal(report.protocol.metric, 'cosine', 'no calibration: the service scored in plain cosine');
  t.notMatch(report.dataset.warnings.join('\n'), /calibration changed/, 'no calibration happened during the run');
  t.equal(s.candidates, 20);
  t.same(s.existingAlgorithms, []);
  t.equal(s.missingScores.pairs, 0, 'k = 20 candidates cover four classes');
  t.ok(s.requests > 5 && s.retries === 0);
  t.equal(report.calibration.global.mean, 0.3);
  t.equal(report.calibration.fallbacks.mean, 3, 'three registered classes per repeat, all on the global threshold');

  t.same(report.dataset.unreadable.map((u) => u.file), ['jpeg-q50/broken__t00.png'], 'the file the service refuses is left out');
  t.match(report.dataset.unreadable[0].reason, /^DFG_ERR_IMAGE_UNSUPPORTED_FORMAT: /);
  t.equal(report.dataset.usable, 36);

  // The library run of the same seed, with the service's own model and decision settings: same
  // splits, and the same threshold-free numbers (nine shots per class: the service's k-NN is exact here).
  const { embedder } = services.need();
  const library = await runEvaluation({ ...protocol, topM: s.decision.topM, targetFpir: 0.01, margin: s.decision.margin, model: report.model },
    async (f) => (await embedder.embed(await fs.readFile(f.path))).vector);
  t.same(report.protocol.splits, library.protocol.splits, 'same known / unknown / probe counts per repeat');
  t.same(report.protocol.groups, library.protocol.groups);
  t.same(library.dataset.unreadable.map((u) => u.file), ['jpeg-q50/broken__t00.png']);
  for (const [name, get] of [['Rank-1', (r: Report) => r.rank1], ['Rank-5', (r: Report) => r.rank5], ['AUROC', (r: Report) => r.auroc], ['OSCR', (r: Report) => r.oscr]] as const) {
    t.ok(Math.abs(get(report).mean! - get(library).mean!) < 1e-6, `${name}: service ${get(report).mean} = library ${get(library).mean}`);
  }
  t.equal(library.mAPBasis, 'samples');
  for (const sp of report.protocol.splits) {
    t.equal(sp.unknown.length, 1);
    t.ok(sp.known.includes('camera'), 'authentic always registered');
  }

  for (const st of stats(report)) t.ok(st.mean === null || (Number.isFinite(st.mean) && Number.isFinite(st.std!)), 'numbers or null');
  t.ok(report.rank1.mean! >= 0.8, `Rank-1 ${report.rank1.mean} well above chance (1/3)`);
  t.ok(report.mAP.mean! >= report.rank1.mean! && report.mAP.mean! <= 1, 'AP over algorithms is at least the Rank-1 share');
  t.ok(report.auroc.mean! > 0.5, `AUROC ${report.auroc.mean}`);
  t.ok(report.oscr.mean! <= report.rank1.mean! + 1e-9);
  t.ok(report.macroF1.mean! > 0 && report.macroF1.mean! <= 1);
  const camera = report.perAlgorithm.find((r) => r.name === 'camera')!;
  t.ok(camera.authentic && camera.probes > 0, 'authentic probes evaluated');
  t.same(Object.keys(report.byArchitecture).sort(), ['CNN', 'Diffusion', 'GAN', 'authentic']);
  t.same(report.confusion.rows, library.confusion.rows, 'confusion: the library run\'s rows (same probes)');
  for (const row of report.perAlgorithm.filter((r) => r.probes > 0)) {
    const diag = report.confusion.rank1.find((c) => c.registered && c.algorithm === row.name && c.predicted === row.name)?.count ?? 0;
    t.equal(diag / row.probes, row.rank1, `confusion: ${row.name} diagonal = its Rank-1`);
  }

  const out = path.join(root, 'out');
  await writeReport(report, out);
  const md = await fs.readFile(path.join(out, 'report.md'), 'utf8');
  t.match(md, /\| mAP \(over algorithms\) \|/);
  t.match(md, /## Service evaluation/);
  t.match(md, /## Most frequent confusions/);
  t.match(md, /thresholds from configured threshold 0\.3/);
  t.match(summaryTable(report), /^metric\s+residual-v3/);
  const json = JSON.parse(await fs.readFile(path.join(out, 'report.json'), 'utf8')) as Report;
  t.equal(json.service!.runId, s.runId);
  t.notOk(JSON.stringify(json).includes(evalKey.key), 'the key never reaches the report');
});

t.test('service evaluation: a calibration during the run is reported', async (t) => {
  const root = await makeDataset();
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const key = generateKey('eval', ['register', 'attribute']);
  const { app, services } = await buildTestApp(t, { keys: [key.entry] });
  const url = await listen(app);
  const { calibrateGallery } = await import('../src/calibration/index.js');
  let calibrated = false;
  const report = await runServiceEvaluation({
    dataDir: root, shots: 3, unknownFraction: 0.34, seed: 'url', repeats: 1, url, apiKey: key.key, maxBytes: 1 << 20,
    onProgress: (e) => {
      if (calibrated || e.phase !== 'service') return;
      // As DFG_AUTO_CALIBRATE_MS would, once the run's classes are in.
      const { gallery } = services.need();
      const counts = Object.values(gallery.enabledSampleCounts());
      if (counts.length < 2 || counts.filter((n) => n >= 2).length < 2) return;
      calibrateGallery(gallery, { topM: 3, targetFpir: 0.05 });
      calibrated = true;
    },
  });
  t.ok(calibrated, 'calibrated in the middle of the repeat');
  t.match(report.dataset.warnings.join('\n'), /calibration changed during the run \(version none → 1\)/);
});

t.test('service evaluation: pre-existing algorithms, 503 + Retry-After, abort cleans up', async (t) => {
  const root = await makeDataset();
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const key = generateKey('eval', ['register', 'attribute']);
  const { app } = await buildTestApp(t, { keys: [key.entry], env: { DFG_THRESHOLD: '0.3' } });
  const url = await listen(app);
  const base: ServiceEvalOptions = { dataDir: root, shots: 3, unknownFraction: 0.34, seed: 'url', repeats: 1, url, apiKey: key.key, maxBytes: 1 << 20 };

  const other = (await app.inject({ method: 'POST', url: '/v1/algorithms', headers: as(key.key), payload: { name: 'someone-else', forgeryType: 'FS', architecture: 'GAN' } })).json();
  await t.rejects(runServiceEvaluation(base), { code: 'DFG_ERR_EVAL_PROTOCOL_INVALID', message: /1 enabled algorithm.*someone-else.*--allow-existing/ }, 'refuses a gallery it does not own');
  const stale = (await app.inject({ method: 'POST', url: '/v1/algorithms', headers: as(key.key), payload: { name: 'eval-0123abcd-old', forgeryType: 'FS', architecture: 'GAN' } })).json();
  await t.rejects(runServiceEvaluation(base), { message: /left by an interrupted dfg eval/ }, 'names leftovers of an interrupted run');
  await app.inject({ method: 'DELETE', url: `/v1/algorithms/${stale.id}`, headers: as(key.key) });
  await app.inject({ method: 'PATCH', url: `/v1/algorithms/${other.id}`, headers: as(key.key), payload: { enabled: false } });

  // A proxy that sheds the first two batch attributions with 503 + Retry-After: 1.
  let shed = 0;
  const proxy = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.url?.startsWith('/v1/attribute/batch') && shed < 2) {
      shed += 1;
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ statusCode: 503, code: 'DFG_ERR_SERVER_OVERLOADED', error: 'Service Unavailable', message: 'Server overloaded: test' }));
      return;
    }
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'authorization']) if (req.headers[h]) headers[h] = String(req.headers[h]);
    const upstream = await fetch(`${url}${req.url}`, { method: req.method, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined });
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => proxy.close(() => r())));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;

  const report = await runServiceEvaluation({ ...base, url: proxyUrl });
  t.equal(shed, 2);
  t.equal(report.service!.retries, 2, 'both shed requests sent again');
  t.same(report.service!.existingAlgorithms, [], 'a disabled algorithm does not compete');
  t.ok(report.rank1.mean! >= 0.8, `Rank-1 ${report.rank1.mean}`);

  await app.inject({ method: 'PATCH', url: `/v1/algorithms/${other.id}`, headers: as(key.key), payload: { enabled: true } });
  const allowed = await runServiceEvaluation({ ...base, allowExisting: true });
  t.same(allowed.service!.existingAlgorithms, ['someone-else']);
  const after = await algorithms(app, key.key);
  t.same(after.items.map((a) => a.name), ['someone-else'], 'only its own algorithms are deleted');

  // Ctrl-C in the middle of a repeat: the requests stop and what the run registered goes.
  const controller = new AbortController();
  let seen: string[] = [];
  let events = 0;
  await t.rejects(runServiceEvaluation({
    ...base,
    allowExisting: true,
    signal: controller.signal,
    onProgress: (e) => {
      if (e.phase !== 'service' || (events += 1) !== 4) return;
      void algorithms(app, key.key).then((l) => {
        seen = l.items.map((a) => a.name);
        controller.abort(new Error('interrupted'));
      });
    },
  }), { message: 'interrupted' });
  t.ok(seen.filter((n) => n.startsWith('eval-')).length === 3, `the run had registered its classes (${seen.join(', ')})`);
  const registered = seen.find((n) => n.endsWith('-camera'));
  t.ok(registered && /^eval-[0-9a-f]{8}-camera$/.test(registered), 'named eval-<run id>-<class>');
  t.same((await algorithms(app, key.key)).items.map((a) => a.name), ['someone-else'], 'the aborted run left nothing behind');
});

t.test('answers to outcomes: order, missing classes at −1, foreign candidates, decisions', async (t) => {
  const classes = new Map([['id-a', 'A'], ['id-b', 'B'], ['id-c', 'C']]);
  const ref = (id: string, name: string) => ({ id, name });
  const answer = {
    decision: 'attributed' as const,
    algorithm: ref('id-x', 'theirs'),
    score: 0.9,
    candidates: [{ algorithm: ref('id-b', 'eval-1-B'), score: 0.7 }, { algorithm: ref('id-x', 'theirs'), score: 0.9 }],
    model: { id: 'm', version: '1' },
  };
  const o = answerOutcome({ id: 'p', algorithm: 'A' }, true, answer, classes);
  t.equal(o.missing, 2, 'A and C absent');
  t.ok(o.ownMissing);
  t.ok(o.foreignBest);
  t.equal(o.outcome.best, foreignLabel('theirs'), 'sorted by score');
  t.equal(o.outcome.predicted, foreignLabel('theirs'), 'a foreign attribution is a wrong answer, not unknown');
  t.equal(o.outcome.rank, 3, 'missing classes follow the candidates, by name');
  t.equal(o.outcome.bestScore, 0.9);
  t.equal(o.outcome.runnerUpScore, 0.7);
  t.equal(o.outcome.ap, 0.25, 'AP over algorithms: the missing classes tie at −1, so the precision is taken at the end of the tie');

  const unknown = answerOutcome({ id: 'q', algorithm: 'Z' }, false, { ...answer, decision: 'unknown', algorithm: null, candidates: [], score: 0 }, classes);
  t.equal(unknown.outcome.predicted, UNKNOWN_LABEL);
  t.equal(unknown.outcome.bestScore, -1, 'no candidate: every class at −1');
  t.equal(unknown.outcome.rank, Infinity);
  t.notOk(unknown.ownMissing, 'unknown probes have no class to miss');

  const b = answerOutcome({ id: 'r', algorithm: 'B' }, true, { ...answer, algorithm: ref('id-b', 'eval-1-B'), candidates: [{ algorithm: ref('id-b', 'x'), score: 0.8 }, { algorithm: ref('id-a', 'y'), score: 0.8 }] }, classes);
  t.equal(b.outcome.rank, 1, 'ties keep the service order');
  t.equal(b.outcome.predicted, 'B');
  t.equal(b.outcome.ap, 0.5, 'a tie at the top shares the precision');
});

t.test('names, taxonomy, URLs, Retry-After', async (t) => {
  const names = serviceNames('eval-00000000-', ['gan', 'GAN', 'with space', 'x'.repeat(300), 'plain']);
  t.equal(names.get('plain'), 'eval-00000000-plain');
  t.not(names.get('gan')!.toLowerCase(), names.get('GAN')!.toLowerCase(), 'names equal but for case get told apart');
  t.match(names.get('with space')!, /^eval-00000000-with_space~[0-9a-f]{10}$/);
  t.ok(names.get('x'.repeat(300))!.length <= 200, 'within the API name limit');
  t.same(serviceTaxonomy({ forgeryType: 'efs', architecture: 'diffusion', authentic: false }), { forgeryType: 'EFS', architecture: 'Diffusion' });
  t.same(serviceTaxonomy({ forgeryType: 'unspecified', architecture: 'transformer', authentic: false }), { forgeryType: 'unknown', architecture: 'other' });
  t.same(serviceTaxonomy({ forgeryType: 'authentic', architecture: 'unspecified', authentic: true }), { forgeryType: 'authentic', architecture: 'authentic' });
  t.equal(serviceBase('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080');
  t.throws(() => serviceBase('ftp://x'), { code: 'DFG_ERR_EVAL_PROTOCOL_INVALID' });
  t.throws(() => serviceBase('http://user:secret@host'), { code: 'DFG_ERR_EVAL_PROTOCOL_INVALID', message: /--api-key/ });
  t.throws(() => serviceBase('not a url'), { code: 'DFG_ERR_EVAL_PROTOCOL_INVALID' });
  t.equal(retryAfterSeconds('3', 30), 3);
  t.equal(retryAfterSeconds(null, 30), 1);
  t.equal(retryAfterSeconds('600', 30), 30, 'capped');
  t.equal(retryAfterSeconds('garbage', 30), 1);
  t.ok(retryAfterSeconds(new Date(Date.now() + 5000).toUTCString(), 30) >= 4, 'HTTP date');
  await t.rejects(runServiceEvaluation({ dataDir: '/nonexistent-dfg', shots: 1, unknownFraction: 0, seed: 1, repeats: 1, url: 'http://127.0.0.1:9', maxBytes: 1 }), { code: 'DFG_ERR_EVAL_DATASET_INVALID' }, 'dataset mistakes surface before any request');
  const root = await makeDataset();
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  // A port that was just free: nothing listens there.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const closed = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  await t.rejects(runServiceEvaluation({ dataDir: root, shots: 3, unknownFraction: 0.3, seed: 1, repeats: 1, url: `http://127.0.0.1:${closed}`, maxBytes: 1 << 20 }),
    { code: 'DFG_ERR_EVAL_SERVICE_FAILED', message: new RegExp(`127\\.0\\.0\\.1:${closed}/v1/gallery failed: .*ECONNREFUSED`) }, 'an unreachable service is named');
});
