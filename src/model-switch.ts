/**
 * Hot model switch: the service moves to another DFG_MODEL list without a restart. The target is
 * checked (list syntax, manifests, a vector of every listed model for every stored sample), its
 * embedder and gallery load beside the serving pair, new requests then get the new pair at once,
 * and the old pair closes once the requests holding it have finished. A refused or failed switch
 * leaves the serving pair as it was. One switch runs at a time. Before the new pair serves, the
 * switch is recorded in the gallery store, so a restart serves the list too (served-models.ts).
 */
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import { formatModelList, loadManifest, parseModelList, type ModelChoice } from './embedding/index.js';
import { readLastSwitch, writeSwitchRecord, type Gallery, type SwitchRecord } from './gallery/index.js';
import { dfgError, isDfgError } from './errors.js';
import { openServingPair, type Parts, type ServingPair } from './serving-pair.js';

export interface SwitchOptions {
  /** Switch even though stored samples lack a vector of a listed model (they are kept but not searched). */
  force?: boolean;
}

export interface ModelSwitchResult {
  /** false when the list is the one already served (nothing reloaded). */
  switched: boolean;
  /** The list served before, in DFG_MODEL syntax. */
  previous: string;
  /** The list served now. */
  model: string;
  /** The pair serving now. */
  parts: Parts;
  /** Checking and loading the new pair, until it served. */
  loadMs: number;
  /** Waiting for requests in flight on the old pair and closing it. */
  drainMs: number;
  /** The switch record written to the gallery store, or null when it already named this list. */
  recorded: SwitchRecord | null;
}

/** What the switcher needs of the services that own the serving pair. */
export interface SwitchHost {
  config: Config;
  log: Logger;
  /** The serving pair (undefined while the service starts). */
  current(): ServingPair | undefined;
  /** Makes `next` the serving pair: requests from now on get it. */
  install(next: ServingPair): void;
  /** A switch to the served list was recorded in the gallery store (called just before install, or alone when the list was already served). */
  recorded(record: SwitchRecord): void;
  /** The service is closing: a switch still loading gives up and closes what it loaded. */
  closing(): boolean;
}

export interface ModelSwitcher {
  switchModels(list: string, opts?: SwitchOptions): Promise<ModelSwitchResult>;
  /** Resolves once no switch runs (close() waits for it, so it never leaks a pair being loaded). */
  settled(): Promise<void>;
  /** A switch is running now. */
  busy(): boolean;
}

/** The served list in DFG_MODEL syntax. */
export function servedList(parts: Parts): string {
  return formatModelList(parts.embedder.models);
}

/** Refuses a model that cannot be served with a 4xx: unknown (404) or unusable (422). */
async function checkManifest(modelsDir: string, id: string): Promise<void> {
  try {
    await loadManifest(modelsDir, id);
  } catch (err) {
    throw unusable(err, id);
  }
}

function unusable(err: unknown, id: string): unknown {
  if (isDfgError(err, 'DFG_ERR_MODEL_MANIFEST_INVALID') || isDfgError(err, 'DFG_ERR_MODEL_LOAD_FAILED')) return dfgError('DFG_ERR_MODEL_UNUSABLE', id, err.message);
  return err;
}

/** Throws DFG_ERR_MODEL_SWITCH_INCOMPLETE when some listed model lacks vectors (`missing`: samples without one, by model id). */
function refuseIncomplete(list: string, missing: Record<string, number>): void {
  const lacking = Object.entries(missing).filter(([, n]) => n > 0);
  if (lacking.length === 0) return;
  const what = lacking.map(([id, n]) => `${n} stored sample(s) lack a vector of ${id}`).join(', ');
  throw dfgError('DFG_ERR_MODEL_SWITCH_INCOMPLETE', list,
    `${what}; re-embed them (dfg gallery reembed --model <id>, or POST /v1/jobs/reembeddings) and switch again, or force the switch to serve without them`);
}

/** The list of the recorded switch; undefined when there is none or it is unreadable (then rewritten). */
function lastRecorded(dir: string): string | undefined {
  try {
    return readLastSwitch(dir)?.list;
  } catch {
    return undefined;
  }
}

/** Checks a target list against the models folder and the store the serving gallery reads. */
async function checkTarget(config: Config, serving: Gallery, list: string, force: boolean): Promise<ModelChoice[]> {
  const choices = parseModelList(list);
  for (const c of choices) await checkManifest(config.DFG_MODELS_DIR, c.id);
  if (!force) refuseIncomplete(formatModelList(choices), Object.fromEntries(choices.map((c) => [c.id, serving.countMissing(c.id)])));
  return choices;
}

export function createModelSwitcher(host: SwitchHost): ModelSwitcher {
  const { config, log } = host;
  let running: { to: string; done: Promise<unknown> } | undefined;

  const run = async (old: ServingPair, list: string, force: boolean): Promise<ModelSwitchResult> => {
    const t0 = performance.now();
    const previous = servedList(old.parts);
    const choices = await checkTarget(config, old.parts.gallery, list, force);
    const model = formatModelList(choices);
    if (model === previous) {
      // Served already, maybe by DFG_MODEL overriding a record of another list: now the record names it too.
      const recorded = lastRecorded(config.DFG_GALLERY_DIR) === model ? null : record(model, force);
      return { switched: false, previous, model, parts: old.parts, loadMs: 0, drainMs: 0, recorded };
    }
    if (host.closing()) throw dfgError('DFG_ERR_SERVER_NOT_READY', 'the service is closing');
    log.info({ from: previous, to: model, force }, 'model switch: loading');
    let next: ServingPair;
    try {
      next = await openServingPair(config, choices, log);
    } catch (err) {
      throw unusable(err, model);
    }
    let recorded: SwitchRecord;
    try {
      if (host.closing()) throw dfgError('DFG_ERR_SERVER_NOT_READY', 'the service is closing');
      // Catch up with what the serving pair committed while this one loaded, then check again:
      // samples enrolled meanwhile carry vectors of the old models only.
      next.parts.gallery.refresh();
      if (!force) refuseIncomplete(model, next.parts.gallery.coverage().missing);
      // Committed before the new pair serves, so before the answer: a switch reported done survives kill -9.
      recorded = writeSwitchRecord(config.DFG_GALLERY_DIR, model, force);
    } catch (err) {
      await next.close();
      throw err;
    }
    host.recorded(recorded);
    host.install(next);
    const loadMs = Math.round(performance.now() - t0);
    log.info({ from: previous, to: model, indexId: next.parts.gallery.modelId, loadMs, inFlight: old.holders() }, 'model switch: new models serving, closing the old ones');
    const t1 = performance.now();
    // The switch has happened: a failure to close the old pair (its snapshot) is logged, not reported as a failed switch.
    await old.close({ drain: true }).catch((err: unknown) => log.error({ err, model: previous }, 'model switch: closing the old models failed'));
    return { switched: true, previous, model, parts: next.parts, loadMs, drainMs: Math.round(performance.now() - t1), recorded };
  };

  const record = (model: string, force: boolean): SwitchRecord => {
    const recorded = writeSwitchRecord(config.DFG_GALLERY_DIR, model, force);
    host.recorded(recorded);
    return recorded;
  };

  return {
    async switchModels(list, opts = {}) {
      if (host.closing()) throw dfgError('DFG_ERR_SERVER_NOT_READY', 'the service is closing');
      const old = host.current();
      if (!old) throw dfgError('DFG_ERR_SERVER_NOT_READY', 'model and gallery are loading');
      if (running) throw dfgError('DFG_ERR_MODEL_SWITCH_BUSY', running.to);
      const done = run(old, list, opts.force ?? false);
      running = { to: String(list), done };
      try {
        const result = await done;
        const info = result.parts.gallery.info();
        const coverage = result.parts.gallery.coverage();
        log.info({
          from: result.previous, to: result.model, switched: result.switched, force: opts.force ?? false, indexId: info.modelId,
          indexed: info.counts.samples, needsReembedding: coverage.incomplete, calibrated: result.parts.gallery.currentCalibration() !== null,
          loadMs: result.loadMs, drainMs: result.drainMs, recorded: result.recorded !== null,
        }, result.switched ? 'model switched' : 'model switch: already serving that list');
        return result;
      } catch (err) {
        log.warn({ from: servedList(old.parts), to: list, code: (err as { code?: string }).code, err: (err as Error).message }, 'model switch refused');
        throw err;
      } finally {
        running = undefined;
      }
    },
    settled: async () => {
      await running?.done.catch(() => {});
    },
    busy: () => running !== undefined,
  };
}
