/**
 * Crash safety with real worker processes: a `dfg worker` killed with SIGKILL in the middle of a
 * job loses at most its current chunk, which another worker redoes; no sample is enrolled twice.
 */
import t from 'tap';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { multipart } from './helpers/multipart.js';
import { generatorImage, jpeg } from './helpers/images.js';
import { ROOT } from './helpers/app.js';
import { jobHarness, waitFor, zip, type JobHarness } from './helpers/jobs.js';
import type { JobView } from '../src/jobs/view.js';

const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'index.js');

// Short locks so a dead worker's chunk is taken over within about two seconds.
const ENV = { DFG_JOB_CHUNK_SIZE: '8', DFG_JOB_LOCK_MS: '1500', DFG_JOB_STALLED_MS: '500', DFG_JOB_MAX_STALLED: '3', DFG_JOB_SHUTDOWN_MS: '200' };

interface WorkerChild { child: ChildProcess; output: () => string; exited: Promise<number | null> }

async function spawnWorker(h: JobHarness): Promise<WorkerChild> {
  const c = h.config;
  const child = spawn(process.execPath, [CLI, 'worker'], {
    env: {
      ...process.env, ...ENV,
      REDIS_URL: c.REDIS_URL, DFG_JOB_PREFIX: c.DFG_JOB_PREFIX, DFG_GALLERY_DIR: c.DFG_GALLERY_DIR, DFG_MODELS_DIR: c.DFG_MODELS_DIR,
      DFG_THREADS: '1', DFG_JOB_CONCURRENCY: '1', LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(async () => out.includes('"msg":"worker ready"') || child.exitCode !== null, 'worker to start', 60_000, 50);
  if (child.exitCode !== null) throw new Error(`worker exited:\n${out}`);
  return { child, output: () => out, exited };
}

t.test('a worker killed with SIGKILL mid-job: another worker finishes the job, no duplicate samples', async (t) => {
  const h = await jobHarness(t, { name: 'kill', worker: false, env: ENV });
  const { app } = h;
  const children: ChildProcess[] = [];
  t.teardown(() => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'victim', forgeryType: 'FS', architecture: 'GAN' } })).json();
  const imgs = await Promise.all(Array.from({ length: 96 }, (_, i) => generatorImage(i % 2 ? 'nearest2' : 'jpeg50', 5000 + i)));
  const first = await spawnWorker(h);
  children.push(first.child);

  const res = await app.inject({
    method: 'POST', url: '/v1/jobs/enrolments',
    ...multipart([{ name: 'algorithmId', data: alg.id }, { name: 'archive', filename: 'k.zip', data: zip(imgs.map((data, i) => ({ name: `k${i}.png`, data }))) }]),
  });
  t.equal(res.statusCode, 202, res.body);
  const id = res.json().jobId as string;
  const get = async () => (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json() as JobView;

  // Kill as soon as the first chunk is recorded: the worker is then inside its next chunk.
  const atKill = await waitFor(async () => { const v = await get(); return v.progress.chunks.done >= 1 ? v : null; }, 'the first chunk', 30_000, 20);
  first.child.kill('SIGKILL');
  t.equal(await first.exited, null, 'killed by a signal');
  t.not(atKill.state, 'completed', 'killed in the middle of the job');
  const frozen = await get();
  t.ok(frozen.progress.done < 96, `work left after the kill (${frozen.progress.done}/96 done)`);

  const second = await spawnWorker(h);
  children.push(second.child);
  const done = await h.finished(id, 40_000);
  t.equal(done.state, 'completed');
  t.match(done.progress, { total: 96, done: 96, failed: 0, chunks: { total: 12, done: 12, failed: 0 } });
  t.equal(done.counts.created! + done.counts.duplicate!, 96);
  t.equal(done.counts.created, 96, 'samples the killed worker committed are still reported as created');
  t.match(second.output(), /"msg":"chunk stalled/, 'the second worker took over the dead worker\'s chunk');

  const samples = (await app.inject({ method: 'GET', url: `/v1/algorithms/${alg.id}/samples?limit=500` })).json();
  t.equal(samples.total, 96, 'every image enrolled once');
  t.equal(new Set(samples.items.map((s: { sha256: string }) => s.sha256)).size, 96, 'no duplicate samples');

  // SIGTERM in the middle of a chunk: past its grace (DFG_JOB_SHUTDOWN_MS) the worker hands the chunk
  // back at once, so the next worker need not wait for the lock to expire, and exits 0.
  const big = await Promise.all(Array.from({ length: 48 }, (_, i) => jpeg(512, 512, 7000 + i)));
  const res2 = await app.inject({
    method: 'POST', url: '/v1/jobs/enrolments',
    ...multipart([{ name: 'algorithmId', data: alg.id }, { name: 'archive', filename: 'big.zip', data: zip(big.map((data, i) => ({ name: `big${i}.jpg`, data, store: true }))) }]),
  });
  const id2 = res2.json().jobId as string;
  await waitFor(async () => (await app.inject({ method: 'GET', url: `/v1/jobs/${id2}` })).json().state === 'active', 'the chunk to start', 30_000, 20);
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0, 'graceful exit on SIGTERM');
  t.match(second.output(), /"msg":"chunk handed back to the queue"/);
  t.match(second.output(), /"msg":"worker closed"/);
  const third = await spawnWorker(h);
  children.push(third.child);
  const done2 = await h.finished(id2, 40_000);
  t.match(done2, { state: 'completed', counts: { created: 48, duplicate: 0, error: 0 } });
  t.match(third.output(), new RegExp(`"jobId":"${id2}","chunk":0,.*"msg":"chunk (done|already recorded)`), 'the handed-back chunk ran on the next worker');
  t.equal((await app.inject({ method: 'GET', url: `/v1/algorithms/${alg.id}` })).json().sampleCount, 96 + 48);
  third.child.kill('SIGTERM');
  t.equal(await third.exited, 0, 'an idle worker stops at once');
});
