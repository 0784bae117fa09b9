/**
 * Hot model switch: the service moves to another DFG_MODEL list without a restart. The target is
 * checked (list syntax, manifests, a vector of every listed model for every stored sample), its
 * embedder and gallery load beside the serving pair, new requests then get the new pair at once,
 * and the old pair closes once the requests holding it have finished. A refused or failed switch
 * leaves the serving pair as it was. One switch runs at a time. Before the new pair serves, the
 * switch is recorded in the gallery store, so a restart serves the list too (served-models.ts).
 */
import type { Logger } from 'pino';
import { storeLocation, type Config } from '../config/index.js';
import { formatModelList, loadManifest, parseModelList, type ModelChoice } from '../embedding/index.js';
import { readLastSwitch, writeSwitchRecord, type AuditNote, type Gallery, type StoreLocation, type SwitchRecord } from '../gallery/gallery.js';
import { dfgError, isDfgError } from '../errors.js';
import { openServingPair, type Parts, type ServingPair } from './pair.js';

export interface SwitchOptions {
  /** Switch even though stored samples lack a vector of a listed model (they are kept but not searched). */
  force?: boolean;
  /** Who switches (recorded in the audit trail with the switch record). */
  audit?: AuditNote;
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
  /**
   * The served list is now that of `record`, written by this switch or followed (called just
   * before install, or alone when the list was already served).
   */
  recorded(record: SwitchRecord): void;
  /** The service is closing: a switch still loading gives up and closes what it loaded. */
  closing(): boolean;
}

export interface ModelSwitcher {
  switchModels(list: string, opts?: SwitchOptions): Promise<ModelSwitchResult>;
  /**
   * Follows a switch that another process sharing the gallery recorded: serves its list (without
   * checking completeness or writing a record) and fences enrolments to it. 409
   * DFG_ERR_MODEL_SWITCH_BUSY while a switch runs; the load errors otherwise, and then nothing changes.
   */
  follow(record: SwitchRecord): Promise<ModelSwitchResult>;
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

/** The recorded switch; null when there is none or it is unreadable (then rewritten). */
async function readLast(where: StoreLocation): Promise<SwitchRecord | null> {
  try {
    return await readLastSwitch(where);
  } catch {
    return null;
  }
}

/** Checks a target list against the models folder and the store the serving gallery reads. */
async function checkTarget(config: Config, serving: Gallery, list: string, force: boolean): Promise<ModelChoice[]> {
  const choices = parseModelList(list);
  for (const c of choices) await checkManifest(config.DFG_MODELS_DIR, c.id);
  if (!force) refuseIncomplete(formatModelList(choices), Object.fromEntries(await Promise.all(choices.map(async (c) => [c.id, await serving.countMissing(c.id)]))));
  return choices;
}

export function createModelSwitcher(host: SwitchHost): ModelSwitcher {
  const { config, log } = host;
  let running: { to: string; done: Promise<unknown> } | undefined;

  /**
   * Switches to `list`. `followed`: the switch another process recorded, which this one follows:
   * no completeness check (that process made it, or forced it) and no new record.
   */
  const run = async (old: ServingPair, list: string, force: boolean, followed?: SwitchRecord, audit?: AuditNote): Promise<ModelSwitchResult> => {
    const t0 = performance.now();
    const previous = servedList(old.parts);
    const choices = await checkTarget(config, old.parts.gallery, list, force || followed !== undefined);
    const model = formatModelList(choices);
    if (model === previous) {
      if (followed) {
        adopt(old.parts, followed);
        return { switched: false, previous, model, parts: old.parts, loadMs: 0, drainMs: 0, recorded: null };
      }
      // Served already, maybe by DFG_MODEL overriding a record of another list: now the record names it too.
      const last = await readLast(storeLocation(config));
      const recorded = last?.list === model ? null : await record(model, force, audit);
      adopt(old.parts, recorded ?? last!);
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
      await next.parts.gallery.refresh();
      if (!force && !followed) refuseIncomplete(model, (await next.parts.gallery.coverage()).missing);
      // Committed before the new pair serves, so before the answer: a switch reported done survives kill -9.
      recorded = followed ?? (await writeSwitchRecord(storeLocation(config), model, force, audit));
    } catch (err) {
      await next.close();
      throw err;
    }
    adopt(next.parts, recorded);
    host.install(next);
    const loadMs = Math.round(performance.now() - t0);
    log.info({ from: previous, to: model, indexId: next.parts.gallery.modelId, loadMs, inFlight: old.holders() }, 'model switch: new models serving, closing the old ones');
    const t1 = performance.now();
    // The switch has happened: a failure to close the old pair (its snapshot) is logged, not reported as a failed switch.
    await old.close({ drain: true }).catch((err: unknown) => log.error({ err, model: previous }, 'model switch: closing the old models failed'));
    return { switched: true, previous, model, parts: next.parts, loadMs, drainMs: Math.round(performance.now() - t1), recorded: followed ? null : recorded };
  };

  const record = (model: string, force: boolean, audit?: AuditNote): Promise<SwitchRecord> => writeSwitchRecord(storeLocation(config), model, force, audit);

  /** `parts` serve under `rec` from now: their enrolments are fenced to it, and the host follows it. */
  const adopt = (parts: Parts, rec: SwitchRecord): void => {
    parts.gallery.expectSwitch(rec);
    host.recorded(rec);
  };

  const start = (list: string, force: boolean, followed?: SwitchRecord, audit?: AuditNote): Promise<ModelSwitchResult> => {
    if (host.closing()) throw dfgError('DFG_ERR_SERVER_NOT_READY', 'the service is closing');
    const old = host.current();
    if (!old) throw dfgError('DFG_ERR_SERVER_NOT_READY', 'model and gallery are loading');
    if (running) throw dfgError('DFG_ERR_MODEL_SWITCH_BUSY', running.to);
    const done = run(old, list, force, followed, audit);
    running = { to: String(list), done };
    void done.finally(() => {
      if (running?.done === done) running = undefined;
    }).catch(() => {});
    return done;
  };

  return {
    async switchModels(list, opts = {}) {
      const old = host.current();
      const done = start(list, opts.force ?? false, undefined, opts.audit);
      try {
        const result = await done;
        const info = result.parts.gallery.info();
        const coverage = await result.parts.gallery.coverage();
        log.info({
          from: result.previous, to: result.model, switched: result.switched, force: opts.force ?? false, indexId: info.modelId,
          indexed: info.counts.samples, needsReembedding: coverage.incomplete, calibrated: result.parts.gallery.currentCalibration() !== null,
          loadMs: result.loadMs, drainMs: result.drainMs, recorded: result.recorded !== null,
        }, result.switched ? 'model switched' : 'model switch: already serving that list');
        return result;
      } catch (err) {
        log.warn({ from: old && servedList(old.parts), to: list, code: (err as { code?: string }).code, err: (err as Error).message }, 'model switch refused');
        throw err;
      }
    },
    async follow(rec) {
      const result = await start(rec.list, rec.forced, rec);
      const coverage = await result.parts.gallery.coverage();
      log.info({
        from: result.previous, to: result.model, switched: result.switched, lastSwitch: rec, indexed: result.parts.gallery.info().counts.samples,
        needsReembedding: coverage.incomplete, loadMs: result.loadMs, drainMs: result.drainMs,
      }, 'model switch recorded by another process: followed');
      if (coverage.incomplete > 0) log.warn({ model: result.model, needsReembedding: coverage.incomplete }, 'some samples lack a vector of the served models: not searched until re-embedded');
      return result;
    },
    settled: async () => {
      await running?.done.catch(() => {});
    },
    busy: () => running !== undefined,
  };
}
