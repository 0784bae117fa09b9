/**
 * What `dfg models build | list` do (their options: ../commands/core.ts): apart from the gallery
 * commands so that listing models loads neither the services nor the HTTP server.
 */
import fs from 'node:fs/promises';
import { loadConfig } from '../../config/index.js';
import { buildModels } from '../../model-build/models/index.js';
import { listModels } from '../../embedding/manifest.js';

/** `dfg models build [ids...]` */
export async function build(ids: string[]): Promise<void> {
  const out = await buildModels(loadConfig().DFG_MODELS_DIR, ids.length ? ids : undefined);
  for (const m of out) console.log(`${m.id}\t${m.sha256}\t${m.onnxPath}`);
}

/** `dfg models list` */
export async function list(): Promise<void> {
  const dir = loadConfig().DFG_MODELS_DIR;
  const st = await fs.stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new Error(`DFG_MODELS_DIR ${dir} is not a folder`);
  const ids = await listModels(dir);
  for (const id of ids) console.log(id);
  if (ids.length === 0) console.error(`no models in ${dir}; build the project's own with \`dfg models build\``);
}

