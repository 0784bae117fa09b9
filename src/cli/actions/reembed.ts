/**
 * `dfg gallery reembed --model <id> [--switch [models]]`: embeds every kept image of the gallery
 * with a new model and stores the vectors beside the old ones, while a running service keeps
 * serving with its own model list. `--switch` then prepares the switch: it builds and snapshots
 * the index of the target model list and calibrates it, so a running service switched to that
 * list (`dfg model switch`, PUT /v1/model) or restarted with it loads it at once, calibrated.
 * Its options: ../commands/reembed.ts.
 */
import { loadConfig, metricSetting, scoreNormSetting, storeLocation, threadCount, type Config } from '../../config/index.js';
import { loadCohortFor } from '../../embedding/cohort.js';
import { createEmbedder, formatModelList, loadManifest, parseModelList } from '../../embedding/index.js';
import { openGallery } from '../../gallery/gallery.js';
import { reembedGallery, type ReembedResult } from '../../use-cases/reembed.js';
import { calibrateGallery, calibrationCohort } from '../../calibration/index.js';
import { isDfgError } from '../../errors.js';
import { progressBar } from '../progress.js';
import { requireGallery } from '../gallery-dir.js';
import { CLI_AUDIT } from '../audit-note.js';

export interface ReembedCommandOptions {
  model: string;
  switch?: boolean | string;
  batch: number;
  json?: boolean;
}

/** What a switch to `target` (a DFG_MODEL list) found and did. */
export interface SwitchReport {
  model: string;
  indexId: string;
  indexed: number;
  needsReembedding: number;
  calibration: { version: number; global: number } | { skipped: string };
}

/** Builds, snapshots and calibrates the index of the `target` model list (vectors must be in the store already). */
export async function prepareSwitch(config: Config, target: string): Promise<SwitchReport> {
  const choices = parseModelList(target);
  const models = [];
  for (const c of choices) models.push({ id: c.id, dim: (await loadManifest(config.DFG_MODELS_DIR, c.id)).manifest.output.dim, weight: c.weight });
  const gallery = await openGallery({ ...storeLocation(config), models, snapshotEvery: config.DFG_SNAPSHOT_EVERY });
  try {
    const coverage = await gallery.coverage();
    let calibration: SwitchReport['calibration'];
    try {
      const cohort = calibrationCohort(await loadCohortFor(config.DFG_MODELS_DIR, choices), scoreNormSetting(config));
      const rec = (await calibrateGallery(gallery, { topM: config.DFG_TOP_M, targetFpir: config.DFG_TARGET_FPIR, metric: metricSetting(config), cohort, audit: CLI_AUDIT })).record!;
      calibration = { version: rec.version, global: rec.global };
    } catch (err) {
      if (!isDfgError(err, 'DFG_ERR_CALIBRATION_INSUFFICIENT')) throw err;
      calibration = { skipped: err.message };
    }
    await gallery.snapshot();
    return { model: formatModelList(choices), indexId: gallery.modelId, indexed: gallery.info().counts.samples, needsReembedding: coverage.incomplete, calibration };
  } finally {
    await gallery.close();
  }
}

/** `dfg gallery reembed` */
export async function reembed(o: ReembedCommandOptions): Promise<void> {
  const config = loadConfig();
  const choices = parseModelList(o.model);
  if (choices.length !== 1 || o.model.includes(':')) throw new Error(`Expected one model id (no weight) for --model but received ${JSON.stringify(o.model)}`);
  // Re-embeds the kept images of an existing gallery: nothing to do in a new one, and a mistyped DFG_GALLERY_DIR must not become one.
  requireGallery(config.DFG_GALLERY_DIR, config.DFG_STORE);
  const choice = choices[0];
  const target = o.switch === undefined || o.switch === false ? undefined : o.switch === true ? choice!.id : o.switch;
  // A bad --switch list is refused before anything is embedded or stored.
  if (target) for (const c of parseModelList(target)) await loadManifest(config.DFG_MODELS_DIR, c.id);
  const embedder = await createEmbedder({
    modelsDir: config.DFG_MODELS_DIR, modelId: choice!.id, threads: threadCount(config),
    maxQueue: Math.max(config.DFG_MAX_QUEUE, o.batch), limits: { maxBytes: config.DFG_MAX_IMAGE_BYTES, maxPixels: config.DFG_MAX_PIXELS },
  });
  let result: ReembedResult;
  try {
    // A gallery of the new model alone: its index grows as vectors arrive and is snapshotted at close.
    const g = await openGallery({ ...storeLocation(config), modelId: choice!.id, dim: embedder.model.dim, snapshotEvery: config.DFG_SNAPSHOT_EVERY });
    try {
      let bar: ReturnType<typeof progressBar> | undefined;
      let shown = 0;
      result = await reembedGallery(g, embedder, {
        batchSize: o.batch,
        audit: CLI_AUDIT,
        onProgress: (p) => {
          bar ??= o.json ? undefined : progressBar(`reembed ${p.modelId}`, p.total);
          bar?.tick(p.done - shown, p.notKept + p.failed > 0 ? `${p.notKept} not kept, ${p.failed} failed` : '');
          shown = p.done;
        },
      });
      bar?.stop();
    } finally {
      await g.close();
    }
  } finally {
    await embedder.close();
  }
  const switched = target ? await prepareSwitch(config, target) : undefined;
  if (o.json) {
    console.log(JSON.stringify({ ...result, switch: switched ?? null }, null, 2));
  } else {
    console.log(`${result.modelId}: ${result.stored} vectors stored of ${result.total} samples lacking one; ${result.notKept} not re-embeddable (image bytes not kept), ${result.failed} refused by the model`);
    if (result.notKeptSamples.length > 0) console.log(`not re-embeddable: ${result.notKeptSamples.slice(0, 10).join(', ')}${result.notKept > 10 ? ', …' : ''} (enrol those images again to keep their bytes)`);
    for (const e of result.errors.slice(0, 10)) console.log(`${e.sampleId}: ${e.code} ${e.message}`);
    if (switched) {
      console.log(`index ${switched.indexId}: ${switched.indexed} samples, ${switched.needsReembedding} still lacking a vector; ` +
        ('version' in switched.calibration ? `calibrated (version ${switched.calibration.version}, global ${switched.calibration.global.toFixed(3)})` : `not calibrated: ${switched.calibration.skipped}`));
      console.log(`switch the running service with \`dfg model switch ${switched.model}\` (no restart; recorded, so restarts keep it unless DFG_MODEL is set to another list), or restart it with DFG_MODEL=${switched.model}`);
    }
  }
  if (result.notKept + result.failed > 0 || (switched && switched.needsReembedding > 0)) process.exitCode = 2;
}
