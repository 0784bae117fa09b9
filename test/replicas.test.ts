/**
 * One gallery on PostgreSQL, served by real processes: two `dfg serve` replicas (each with its own
 * gallery folder for snapshots, nothing shared but DFG_STORE) and one `dfg worker`. Enrolled on one,
 * found on the other; a job the worker commits is found by both; disabled or deleted on one, gone
 * from the other within a second; a replica killed with SIGKILL mid-enrolment loses no sample it
 * acknowledged.
 */
import t from 'tap';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './helpers/app.js';
import { serve, stop, upload, type Proc } from './helpers/serve.js';
import { generatorImage } from './helpers/images.js';
import { multipart } from './helpers/multipart.js';
import { redisPrefix, REDIS_URL, waitFor, zip } from './helpers/jobs.js';
import { tempDir } from './helpers/gallery.js';
import { testDatabase } from './helpers/pg.js';

const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'index.js');

interface Candidate { algorithm: { id: string } }

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await fetch(url, init);
  return { status: r.status, body: await r.json().catch(() => null) };
}

const post = (url: string, payload: unknown) => json(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });

/** The algorithm ids among a replica's candidates for `image`. */
async function candidates(p: Proc, image: Buffer): Promise<string[]> {
  const r = await upload(`${p.url}/v1/attribute`, [['probe.png', image]]);
  const body = (await r.json()) as { candidates: Candidate[] };
  return body.candidates.map((c) => c.algorithm.id);
}

/** What a replica's index holds now (GET /v1/gallery answers from memory). */
async function held(p: Proc): Promise<{ samples: number; enabledAlgorithms: number; algorithms: number }> {
  return (await json(`${p.url}/v1/gallery`)).body.counts;
}

/** Milliseconds until `cond` holds (polled every 20 ms), failing after `limitMs`. */
async function within(limitMs: number, cond: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) return Infinity;
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('two API replicas and a worker on one PostgreSQL', async (t) => {
  const store = await testDatabase(t);
  const { prefix, cleanup } = redisPrefix('replicas');
  const env = { DFG_STORE: store, REDIS_URL, DFG_JOB_PREFIX: prefix, DFG_AUTO_CALIBRATE_MS: '0', DFG_JOB_CHUNK_SIZE: '4' };
  const procs: ChildProcess[] = [];
  t.teardown(async () => {
    for (const c of procs) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await cleanup();
  });

  const [a, b] = await Promise.all([serve(tempDir(), env), serve(tempDir(), env)]);
  procs.push(a.child, b.child);
  const worker = spawn(process.execPath, [CLI, 'worker'], {
    env: { ...process.env, ...env, DFG_GALLERY_DIR: tempDir(), DFG_MODELS_DIR: path.join(ROOT, 'models'), DFG_THREADS: '1', DFG_JOB_CONCURRENCY: '1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(worker);
  let workerOut = '';
  worker.stdout!.on('data', (d: Buffer) => { workerOut += d.toString(); });
  worker.stderr!.on('data', (d: Buffer) => { workerOut += d.toString(); });

  // Enrolled through A, searchable on B.
  const nn = (await post(`${a.url}/v1/algorithms`, { name: 'nearest', forgeryType: 'EFS', architecture: 'GAN' })).body;
  const bl = (await post(`${b.url}/v1/algorithms`, { name: 'bilinear', forgeryType: 'EFS', architecture: 'GAN' })).body;
  const nnImgs = await Promise.all([1, 2, 3, 4].map((s) => generatorImage('nearest2', 100 + s)));
  const enrolled = await upload(`${a.url}/v1/algorithms/${nn.id}/samples`, nnImgs.slice(0, 3).map((d, i) => [`n${i}.png`, d]));
  t.equal(enrolled.status, 201);
  const seen = await within(1000, async () => (await held(b)).samples === 3);
  t.ok(seen <= 1000, `enrolled on A, in B's index within 1 s (${seen} ms)`);
  t.equal((await candidates(b, nnImgs[3]!))[0], nn.id, 'and found by an attribution on B');

  // A job the worker commits: both replicas follow it.
  await waitFor(async () => workerOut.includes('"msg":"worker ready"'), 'the worker', 60_000, 50);
  const blImgs = await Promise.all([1, 2, 3, 4, 5].map((s) => generatorImage('bilinear4', 200 + s)));
  const job = await fetch(`${b.url}/v1/jobs/enrolments`, {
    method: 'POST',
    ...(() => { const m = multipart([{ name: 'algorithmId', data: bl.id }, { name: 'archive', filename: 'b.zip', data: zip(blImgs.slice(0, 4).map((data, i) => ({ name: `b${i}.png`, data }))) }]); return { body: new Uint8Array(m.payload), headers: m.headers }; })(),
  });
  t.equal(job.status, 202);
  const jobId = ((await job.json()) as { jobId: string }).jobId;
  const done = await waitFor(async () => { const v = (await json(`${a.url}/v1/jobs/${jobId}`)).body; return v.state === 'completed' ? v : null; }, 'the job', 60_000);
  t.match(done.counts, { created: 4 });
  t.ok((await within(1000, async () => (await held(a)).samples === 7)) <= 1000, 'the worker\'s commits reach A\'s index');
  t.ok((await within(1000, async () => (await held(b)).samples === 7)) <= 1000, 'and B\'s');
  t.equal((await candidates(a, blImgs[4]!))[0], bl.id, 'found by an attribution on A');

  // Disabled on A: gone from B's answers within 1 s; deleted on B: gone from A's.
  t.equal((await json(`${a.url}/v1/algorithms/${nn.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: false }) })).status, 200);
  const disabledMs = await within(1000, async () => (await held(b)).enabledAlgorithms === 1);
  t.ok(disabledMs <= 1000, `disabled on A, disabled on B within 1 s (${disabledMs} ms)`);
  t.notOk((await candidates(b, nnImgs[3]!)).includes(nn.id), 'B no longer answers with it');
  t.equal((await fetch(`${b.url}/v1/algorithms/${bl.id}`, { method: 'DELETE' })).status, 204);
  const deletedMs = await within(1000, async () => (await held(a)).samples === 3);
  t.ok(deletedMs <= 1000, `deleted on B, out of A's index within 1 s (${deletedMs} ms)`);
  t.notOk((await candidates(a, blImgs[4]!)).includes(bl.id), 'A no longer answers with it');

  // kill -9 A while it enrols: every sample it acknowledged is in the store, as B reads it.
  const victim = (await post(`${b.url}/v1/algorithms`, { name: 'victim', forgeryType: 'FS', architecture: 'GAN' })).body;
  const acked: string[] = [];
  let stopping = false;
  const enrolling = (async () => {
    for (let i = 0; !stopping; i++) {
      const img = await generatorImage(i % 2 ? 'jpeg50' : 'camera', 3000 + i);
      const r = await upload(`${a.url}/v1/algorithms/${victim.id}/samples`, [[`v${i}.png`, img]]).catch(() => null);
      if (!r) return;
      if (r.status === 201) acked.push(((await r.json()) as { results: Array<{ sampleId: string }> }).results[0]!.sampleId);
    }
  })();
  await waitFor(async () => acked.length >= 5, 'some acknowledged enrolments', 30_000, 10);
  await stop(a, 'SIGKILL');
  stopping = true;
  await enrolling;
  const stored = (await json(`${b.url}/v1/algorithms/${victim.id}/samples?limit=500`)).body.items.map((s: { id: string }) => s.id);
  t.ok(acked.length >= 5);
  t.same(acked.filter((id) => !stored.includes(id)), [], `all ${acked.length} acknowledged samples are stored (${stored.length} in all)`);
  t.ok(stored.length <= acked.length + 1, 'at most the one in flight besides');

  await stop(b, 'SIGTERM');
  worker.kill('SIGTERM');
});
