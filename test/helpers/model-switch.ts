/** A served gallery to switch models on (model-switch tests): residual-v1 with tiny-clip beside it. */
import fs from 'node:fs';
import path from 'node:path';
import { buildTestApp, ROOT, tempDir, type TestAppOptions } from './app.js';
import { files } from './multipart.js';
import { generatorImage } from './images.js';
import { writeTinyModel } from './tiny-model.js';
import { generateKey, type KeysFile } from '../../src/http/plugins/auth.js';
import { createEmbedder } from '../../src/embedding/index.js';
import { openGallery } from '../../src/gallery/gallery.js';
import { reembedGallery } from '../../src/use-cases/reembed.js';
import type { Config } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';

export const adminKey = generateKey('ops', ['admin']);

/** A models folder holding residual-v1 and tiny-clip. */
export function switchModelsDir(): string {
  const models = tempDir('dfg-models-');
  fs.cpSync(path.join(ROOT, 'models', 'residual-v1'), path.join(models, 'residual-v1'), { recursive: true });
  writeTinyModel(models, 'tiny-clip');
  return models;
}

/** Routes over a built test app: put (PUT /v1/model), served (the served list), gallery (GET /v1/gallery), attribute. */
export function switchRoutes(app: Awaited<ReturnType<typeof buildTestApp>>['app'], admin: Record<string, string>, probe: Buffer) {
  const withAuth = (form: ReturnType<typeof files>) => ({ ...form, headers: { ...form.headers, ...admin } });
  const attribute = async () => (await app.inject({ method: 'POST', url: '/v1/attribute', ...withAuth(files(['p.png', probe])) })).json();
  const put = (payload: unknown) => app.inject({ method: 'PUT', url: '/v1/model', headers: admin, payload: payload as object });
  const gallery = async () => (await app.inject({ url: '/v1/gallery', headers: admin })).json();
  const served = async () => (await gallery()).model.list as string;
  return { withAuth, attribute, put, gallery, served };
}

/**
 * A service on residual-v1 (DFG_MODEL, unless `env` says otherwise) with two algorithms enrolled;
 * tiny-clip is in its models folder.
 */
export async function servedGallery(t: { teardown(fn: () => unknown): void }, keys?: KeysFile['keys'], opts: Pick<TestAppOptions, 'env' | 'servicesLog'> = {}) {
  const models = switchModelsDir();
  const env = { DFG_MODELS_DIR: models, DFG_THRESHOLD: '0', DFG_MODEL: 'residual-v1', ...opts.env };
  const built = await buildTestApp(t, { env, keys, servicesLog: opts.servicesLog });
  const admin: Record<string, string> = keys ? { authorization: `Bearer ${adminKey.key}` } : {};
  const { app } = built;
  const probe = await generatorImage('nearest2', 50);
  const routes = switchRoutes(app, admin, probe);
  const register = async (name: string) => (await app.inject({ method: 'POST', url: '/v1/algorithms', headers: admin, payload: { name, forgeryType: 'EFS', architecture: 'GAN' } })).json();
  const x = await register('X');
  const y = await register('Y');
  const enrol = async (id: string, images: Buffer[]) =>
    (await app.inject({ method: 'POST', url: `/v1/algorithms/${id}/samples`, ...routes.withAuth(files(...images.map((b, i) => [`s${i}.png`, b] as [string, Buffer]))) })).json();
  await enrol(x.id, await Promise.all([1, 2, 3].map((s) => generatorImage('nearest2', s))));
  await enrol(y.id, await Promise.all([11, 12].map((s) => generatorImage('bilinear4', s))));
  return { ...built, ...routes, env, models, x, y, enrol, probe };
}

/** Stores a vector of `modelId` for every sample (as `dfg gallery reembed --model` does). */
export async function reembed(config: Config, modelId: string): Promise<void> {
  const embedder = await createEmbedder({ modelsDir: config.DFG_MODELS_DIR, modelId, threads: 1, maxQueue: 64, limits: { maxBytes: config.DFG_MAX_IMAGE_BYTES, maxPixels: config.DFG_MAX_PIXELS } });
  const gallery = await openGallery({ dir: config.DFG_GALLERY_DIR, modelId, dim: embedder.model.dim });
  try {
    await reembedGallery(gallery, embedder);
  } finally {
    await gallery.close();
    await embedder.close();
  }
}

export type LogLine = { level: number; msg: string } & Record<string, unknown>;

/** A services logger whose lines the test reads. */
export function capturedLog() {
  const lines: LogLine[] = [];
  const log = createLogger({ LOG_LEVEL: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as LogLine); } });
  return { log, lines, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
}

/**
 * Another service over the gallery and models folder of `s`, with `env` changed (DFG_MODEL '' =
 * unset): a restart once `s` is stopped, or a second process beside it. `refreshMs`: how often it
 * catches up with the store and follows switches (default never).
 */
export async function serviceBeside(
  t: Parameters<typeof buildTestApp>[0],
  s: Awaited<ReturnType<typeof servedGallery>>,
  env: Record<string, string>,
  opts: { refreshMs?: number } = {},
) {
  const logs = capturedLog();
  const built = await buildTestApp(t, { env: { ...s.env, DFG_GALLERY_DIR: s.config.DFG_GALLERY_DIR, ...env }, servicesLog: logs.log, refreshMs: opts.refreshMs });
  return { ...built, ...switchRoutes(built.app, {}, s.probe), logs };
}
