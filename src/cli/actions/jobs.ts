/**
 * What `dfg jobs enrol | audit | reembed | status | list | cancel | results` (batch jobs through the
 * HTTP API) do. Their options: ../commands/jobs.ts.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { InvalidArgumentError } from 'commander';
import { sniffArchive } from '../../jobs/sources/archive/index.js';
import { expandImagePaths } from '../files.js';
import { progressBar } from '../progress.js';
import { api, ok, type ApiOptions, type CliApi } from '../api.js';
import { formData, type paths } from '../../api-client/index.js';

type JobView = paths['/v1/jobs/{id}']['get']['responses'][200]['content']['application/json'];
type Source = NonNullable<paths['/v1/jobs/audits']['post']['requestBody']>['content']['application/json']['source'];
import { switchModels } from './model-switch.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
/** Loose files are packed into tar uploads of at most this many bytes (below the default upload limit). */
const PACK_BYTES = 200 * 1024 * 1024;

async function isArchive(file: string): Promise<boolean> {
  const h = await fsp.open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await h.read(head, 0, 512, 0);
    return sniffArchive(head.subarray(0, bytesRead)) !== null;
  } finally {
    await h.close();
  }
}

/** Splits the command line into archives (uploaded as they are) and image files (packed into tars). */
async function planUploads(paths: string[], tmp: string): Promise<Array<{ file: string; name: string }>> {
  const uploads: Array<{ file: string; name: string }> = [];
  const loose: Array<{ file: string; name: string; size: number }> = [];
  for (const p of paths) {
    const st = await fsp.stat(p).catch(() => null);
    if (!st) throw new Error(`No such file or folder: ${p}`);
    if (st.isFile() && (await isArchive(p))) {
      uploads.push({ file: p, name: path.basename(p) });
      continue;
    }
    const root = st.isDirectory() ? path.dirname(path.resolve(p)) : null;
    for (const f of await expandImagePaths([p])) {
      const name = root ? path.relative(root, path.resolve(f)).split(path.sep).join('/') : path.basename(f);
      loose.push({ file: f, name, size: (await fsp.stat(f)).size });
    }
  }
  let pack: Array<{ file: string; name: string; size: number }> = [];
  let bytes = 0;
  const flush = async () => {
    if (!pack.length) return;
    const out = path.join(tmp, `upload-${uploads.length}.tar`);
    const p = tar.pack();
    const writing = pipeline(p, fs.createWriteStream(out));
    for (const item of pack) p.entry({ name: item.name, size: item.size, mode: 0o644 }, await fsp.readFile(item.file));
    p.finalize();
    await writing;
    uploads.push({ file: out, name: `${pack.length}-images.tar` });
    pack = [];
    bytes = 0;
  };
  for (const item of loose) {
    if (bytes + item.size > PACK_BYTES) await flush();
    pack.push(item);
    bytes += item.size;
  }
  await flush();
  return uploads;
}

export interface SubmitOptions extends ApiOptions { serverDir?: string; urlsFile?: string; wait: boolean; json?: boolean; results?: string }

async function submitAndFollow(kind: 'enrol' | 'audit', algorithmId: string | undefined, paths: string[], o: SubmitOptions): Promise<void> {
  const service = api(o);
  const { client } = service;
  const submit = async (body: { source: Source } | { archive: Blob }) =>
    kind === 'enrol'
      ? ok(client.POST('/v1/jobs/enrolments', { body: { algorithmId: algorithmId!, ...body }, bodySerializer: 'archive' in body ? formData : undefined }))
      : ok(client.POST('/v1/jobs/audits', { body, bodySerializer: 'archive' in body ? formData : undefined }));
  const ids: string[] = [];
  const json = (source: Source) => submit({ source });
  if (o.serverDir) ids.push((await json({ type: 'directory', path: path.resolve(o.serverDir) })).jobId);
  if (o.urlsFile) {
    const urls = (await fsp.readFile(o.urlsFile, 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
    for (let i = 0; i < urls.length; i += 10_000) ids.push((await json({ type: 'urls', urls: urls.slice(i, i + 10_000) })).jobId);
  }
  if (paths.length) {
    const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'dfg-jobs-'));
    try {
      for (const up of await planUploads(paths, tmp)) {
        const archive = new File([await fs.openAsBlob(up.file)], up.name);
        const res = await submit({ archive });
        console.error(`submitted ${up.name} as ${res.jobId} (${res.total} entries)`);
        ids.push(res.jobId);
      }
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  }
  if (ids.length === 0) throw new Error('Nothing to submit: give image files, folders or archives, --server-dir or --urls-file');
  if (!o.wait) {
    for (const id of ids) console.log(id);
    return;
  }
  const views = await follow(service, ids, kind);
  if (o.results) await saveResults(service, ids, o.results);
  report(views, o.json);
}

async function follow({ client }: CliApi, ids: string[], label: string): Promise<JobView[]> {
  const view = (id: string) => ok(client.GET('/v1/jobs/{id}', { params: { path: { id } } }));
  let views = await Promise.all(ids.map(view));
  const total = views.reduce((s, v) => s + v.progress.total, 0);
  const bar = progressBar(label, total);
  let shown = 0;
  const onSigint = () => {
    bar.stop();
    console.error(`\nstopped following; the job(s) continue: ${ids.join(' ')} (dfg jobs cancel ID to stop them)`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    for (;;) {
      const done = views.reduce((s, v) => s + v.progress.done, 0);
      const failed = views.reduce((s, v) => s + v.progress.failed, 0);
      if (done > shown) bar.tick(done - shown, `${failed} failed`);
      shown = Math.max(shown, done);
      if (views.every((v) => TERMINAL.has(v.state))) break;
      await new Promise((r) => setTimeout(r, 500));
      views = await Promise.all(ids.map(view));
    }
  } finally {
    process.off('SIGINT', onSigint);
    bar.stop();
  }
  return views;
}

/** The rows of a job as text (NDJSON or CSV). */
const resultsText = ({ client }: CliApi, id: string, format: 'csv' | 'ndjson') =>
  ok(client.GET('/v1/jobs/{id}/results', { params: { path: { id }, query: { format } }, parseAs: 'text' }));

async function saveResults(service: CliApi, ids: string[], file: string): Promise<void> {
  const format = file.endsWith('.csv') ? 'csv' : 'ndjson';
  const out = fs.createWriteStream(file);
  for (const [i, id] of ids.entries()) {
    const text = await resultsText(service, id, format);
    // One CSV header for all jobs.
    out.write(format === 'csv' && i > 0 ? text.slice(text.indexOf('\n') + 1) : text);
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  console.error(`results written to ${file}`);
}

function report(views: JobView[], asJson?: boolean): void {
  if (asJson) console.log(JSON.stringify(views.length === 1 ? views[0] : views, null, 2));
  for (const v of views) {
    for (const e of v.errors?.items.slice(0, 20) ?? []) console.error(`  ${e.name}: ${e.code} ${e.message}`);
    if ((v.errors?.total ?? 0) > 20) console.error(`  … ${v.errors!.total - 20} more errors (dfg jobs results ${v.id})`);
    if (!asJson) {
      const counts = Object.entries(v.counts).map(([k, n]) => `${n} ${k}`).join(', ');
      const algs = v.algorithms?.length ? `; ${v.algorithms.slice(0, 10).map((a) => `${a.name}: ${a.count}`).join(', ')}` : '';
      console.log(`${v.id} ${v.state}: ${counts}${algs} (${v.timings.imagesPerSecond ?? '-'} images/s)`);
    }
    if (v.state !== 'completed' || v.progress.failed === v.progress.total) process.exitCode = 1;
  }
}

/** `dfg jobs enrol <algorithmId> [paths...]` */
export async function enrol(algorithmId: string, paths: string[], o: SubmitOptions): Promise<void> {
  await submitAndFollow('enrol', algorithmId, paths, o);
}

/** `dfg jobs audit [paths...]` */
export async function audit(paths: string[], o: SubmitOptions): Promise<void> {
  await submitAndFollow('audit', undefined, paths, o);
}

/** `dfg jobs reembed <modelId>` */
export async function reembed(modelId: string, o: ApiOptions & { wait: boolean; json?: boolean; switch?: boolean | string }): Promise<void> {
  const service = api(o);
  if (o.switch && !o.wait) throw new InvalidArgumentError('--switch waits for the job: it cannot be combined with --no-wait');
  const target = o.switch === true ? modelId : o.switch;
  let res: { jobId: string; total: number };
  try {
    res = await ok(service.client.POST('/v1/jobs/reembeddings', { body: { modelId } }));
  } catch (err) {
    // Already complete: with --switch there is nothing left but the switch.
    if (!target || (err as { code?: string }).code !== 'DFG_ERR_REEMBED_NOTHING_LEFT') throw err;
    console.error(`every sample already has a vector of ${modelId}`);
    await switchModels(service, target, { json: o.json });
    return;
  }
  console.error(`submitted re-embedding for ${modelId} as ${res.jobId} (${res.total} samples)`);
  if (!o.wait) {
    console.log(res.jobId);
    return;
  }
  const [view] = await follow(service, [res.jobId], `reembed ${modelId}`);
  report([view!], o.json);
  if (target) {
    // Only a complete re-embedding switches: a sample without its vector would drop out of search.
    if (view!.state !== 'completed' || view!.progress.failed > 0) {
      console.error(`not switching: the job ended ${view!.state} with ${view!.progress.failed} failed sample(s)`);
      process.exitCode = 1;
      return;
    }
    await switchModels(service, target, { json: o.json });
  } else if (!o.json) console.error(`then serve a list naming ${modelId} without a restart: dfg model switch ${modelId} (or e.g. <old models>,${modelId}:0.5), or pass --switch`);
}

/** `dfg jobs status <id>` */
export async function status(id: string, o: ApiOptions & { follow?: boolean }): Promise<void> {
  const service = api(o);
  const views = o.follow ? await follow(service, [id], id) : [await ok(service.client.GET('/v1/jobs/{id}', { params: { path: { id } } }))];
  console.log(JSON.stringify(views[0], null, 2));
}

/** `dfg jobs list` */
export async function list(o: ApiOptions & { limit: number }): Promise<void> {
  const page = await ok(api(o).client.GET('/v1/jobs', { params: { query: { limit: o.limit, offset: 0 } } }));
  for (const v of page.items) console.log([v.id, v.kind, v.state, `${v.progress.done}/${v.progress.total}`, v.timings.createdAt, v.source.name].join('\t'));
}

/** `dfg jobs cancel <id>` */
export async function cancel(id: string, o: ApiOptions): Promise<void> {
  const v = await ok(api(o).client.DELETE('/v1/jobs/{id}', { params: { path: { id } } }));
  console.log(`${v.id} ${v.state} (${v.progress.done}/${v.progress.total} done)`);
}

/** `dfg jobs results <id>` */
export async function results(id: string, o: ApiOptions & { format: string; output?: string }): Promise<void> {
  const text = await resultsText(api(o), id, o.format === 'csv' ? 'csv' : 'ndjson');
  if (o.output) await fsp.writeFile(o.output, text);
  else process.stdout.write(text);
}
