/**
 * The model list a service serves at start. A successful model switch is recorded in the gallery
 * store (model-switch.ts), so it survives a restart: without DFG_MODEL the service serves the
 * recorded list. DFG_MODEL, when set, wins (explicit configuration beats state; the record is kept
 * and reported as overridden). A recorded list that can no longer be served (malformed, a model
 * missing or unusable, its pair failing to load) falls back to DFG_MODEL with a warning: the
 * record never stops a service from starting.
 */
import type { Logger } from 'pino';
import { DEFAULT_MODEL, modelList, storeLocation, type Config } from '../config/index.js';
import { formatModelList, loadManifest, parseModelList, type ModelChoice } from '../embedding/index.js';
import { readLastSwitch, type SwitchRecord } from '../gallery/gallery.js';
import { openServingPair, type ServingPair } from './pair.js';

export type { SwitchRecord } from '../gallery/gallery.js';

/** Where the served list came from, for GET /v1/gallery. */
export interface ModelOrigin {
  /**
   * `switch`: the list of a model switch, made by this process or recorded by an earlier one and
   * served at start because DFG_MODEL is unset; `config`: DFG_MODEL (unset: the default).
   */
  source: 'config' | 'switch';
  /** DFG_MODEL as set in the environment (normalised), or null when unset. */
  configured: string | null;
  /** The last switch recorded in the gallery store (as of start, or of this process's last switch), or null. */
  lastSwitch: SwitchRecord | null;
}

export interface StartModels {
  models: ModelChoice[];
  origin: ModelOrigin;
}

const fallbackName = (config: Config) => (config.DFG_MODEL === undefined ? `the default, ${DEFAULT_MODEL}` : 'DFG_MODEL');

/**
 * Decides the list to serve at start: DFG_MODEL when set, else the recorded switch when its
 * models can be loaded, else the default. Never rejects because of the record.
 */
export async function chooseStartModels(config: Config, log: Logger): Promise<StartModels> {
  const models = modelList(config);
  const configured = config.DFG_MODEL === undefined ? null : formatModelList(models);
  let lastSwitch: SwitchRecord | null = null;
  try {
    lastSwitch = await readLastSwitch(storeLocation(config));
  } catch (err) {
    log.warn({ err, gallery: config.DFG_GALLERY_DIR }, 'the recorded model switch is unreadable; ignoring it');
  }
  const fromConfig: StartModels = { models, origin: { source: 'config', configured, lastSwitch } };
  if (!lastSwitch) return fromConfig;
  if (configured !== null) {
    if (configured !== lastSwitch.list) {
      log.warn({ DFG_MODEL: configured, lastSwitch }, 'DFG_MODEL overrides the model list of the last switch (the record is kept: unset DFG_MODEL to serve it)');
    }
    return fromConfig;
  }
  try {
    const recorded = parseModelList(lastSwitch.list);
    for (const m of recorded) await loadManifest(config.DFG_MODELS_DIR, m.id);
    log.info({ model: lastSwitch.list, lastSwitch }, 'serving the model list of the last switch');
    return { models: recorded, origin: { source: 'switch', configured, lastSwitch } };
  } catch (err) {
    log.warn({ err, lastSwitch, serving: formatModelList(models) }, `the model list of the last switch cannot be served; serving ${fallbackName(config)} instead`);
    return fromConfig;
  }
}

/**
 * Opens the first serving pair of a service (chooseStartModels), falling back to DFG_MODEL when
 * the recorded list fails to load. Rejects with the load errors of DFG_MODEL only.
 */
export async function openStartPair(config: Config, log: Logger): Promise<{ pair: ServingPair; origin: ModelOrigin }> {
  const start = await chooseStartModels(config, log);
  if (start.origin.source !== 'switch') return { pair: await openServingPair(config, start.models, log), origin: start.origin };
  let pair: ServingPair;
  try {
    pair = await openServingPair(config, start.models, log);
  } catch (err) {
    log.warn({ err, lastSwitch: start.origin.lastSwitch }, `the model list of the last switch failed to load; serving ${fallbackName(config)} instead`);
    return { pair: await openServingPair(config, modelList(config), log), origin: { ...start.origin, source: 'config' } };
  }
  // Possible after a forced switch, or enrolments by processes on other lists since: served as before the restart.
  const lacking = (await pair.parts.gallery.coverage()).incomplete;
  if (lacking > 0) log.warn({ model: start.origin.lastSwitch?.list, needsReembedding: lacking }, 'some samples lack a vector of the served models: not searched until re-embedded');
  return { pair, origin: start.origin };
}
