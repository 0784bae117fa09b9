/**
 * The long-lived parts a server or CLI needs: embedder (worker pool) and gallery (store + index).
 * They load in the background so the HTTP server can answer /livez at once and /readyz when done,
 * and can be replaced by another model list while serving (a hot model switch, model-switch.ts).
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { metricSetting, scoreNormSetting } from '../config/index.js';
import { calibrationCohort } from '../calibration/index.js';
import { loadManifest } from '../embedding/index.js';
import { sameSwitch, type GalleryModel, type SwitchRecord } from '../gallery/gallery.js';
import { dfgError, isDfgError } from '../errors.js';
import type { Parts, ServingPair } from './pair.js';
import { chooseStartModels, openStartPair, type ModelOrigin } from './served-models.js';
import { createModelSwitcher, servedList, type ModelSwitchResult, type SwitchOptions } from './model-switch.js';
import { startAutoCalibration, type AutoCalibrator } from '../calibration/auto.js';

export type { Parts } from './pair.js';
export type { ModelSwitchResult, SwitchOptions } from './model-switch.js';
export type { ModelOrigin } from './served-models.js';

export interface Services {
  readonly config: Config;
  /** Resolves when model and index are loaded; rejects with the load error. */
  readonly whenReady: Promise<void>;
  /**
   * The serving parts, or a 503 DFG_ERR_SERVER_NOT_READY while loading. For synchronous use only:
   * across an await, a model switch may close them; hold them with `use`.
   */
  need(): Parts;
  /**
   * Runs `fn` with the serving parts held: a model switch meanwhile leaves them open until `fn`
   * settles, so a request embeds and searches with one model list from start to end. When `fn`
   * fails with DFG_ERR_MODEL_SWITCHED (another process switched the gallery's models between its
   * embedding and its commit; nothing was stored), the service follows that switch and runs `fn`
   * once more on the new parts.
   */
  use<T>(fn: (parts: Parts) => Promise<T>): Promise<T>;
  /** Loaded parts or undefined (for health and metrics). */
  peek(): { embedder?: Parts['embedder']; gallery?: Parts['gallery']; error?: Error };
  /** Where the served list came from (DFG_MODEL or a switch) and the recorded switch; 503 while loading, like need(). */
  origin(): ModelOrigin;
  /**
   * Hot model switch to a DFG_MODEL list (see model-switch.ts): 400/404/422 for a bad list or
   * model, 409 DFG_ERR_MODEL_SWITCH_INCOMPLETE (unless `force`), 409 DFG_ERR_MODEL_SWITCH_BUSY while
   * another runs. Resolves once the new models serve and the old ones are closed. A successful
   * switch is recorded in the gallery store first, so restarts serve the list too (served-models.ts).
   */
  switchModels(list: string, opts?: SwitchOptions): Promise<ModelSwitchResult>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Catch up with samples that other processes (job workers, CLI) committed, every this many ms. 0 = never. */
  refreshMs?: number;
  /**
   * Calibrate the serving gallery automatically (calibration/auto.ts), checking every this many
   * ms (DFG_AUTO_CALIBRATE_MS; the HTTP server passes it). 0 or absent = never.
   */
  autoCalibrateMs?: number;
  /** Log a failed start-up as an error (default true); the CLI prints that error itself, once. */
  logStartFailure?: boolean;
}

/** How long a process starting while the shared store is down waits between attempts. */
const STORE_RETRY_MS = 2000;

/** How long a process waits before trying again to follow a switch it could not load. */
const FOLLOW_RETRY_MS = 10_000;

export function startServices(config: Config, log: Logger, opts: ServiceOptions = {}): Services {
  let current: ServingPair | undefined;
  let origin: ModelOrigin | undefined;
  let error: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  let auto: AutoCalibrator | undefined;
  let closed = false;
  let refreshFailing = false;

  // The switch record the serving pair follows (undefined: pinned by DFG_MODEL, following none),
  // and the follow under way, so a retrying enrolment waits for it rather than starting another.
  let followed: SwitchRecord | null | undefined;
  let following: Promise<void> | undefined;
  // A record that failed to load here, tried again only after FOLLOW_RETRY_MS (another record at once).
  let failed: { record: SwitchRecord; until: number } | undefined;

  /** Serves the list of a switch another process recorded since, if any (one follow at a time). */
  const followSwitch = (): Promise<void> => {
    following ??= (async () => {
      if (followed === undefined || !current || closed || switcher.busy()) return;
      let now: SwitchRecord | null;
      try {
        now = await current.parts.gallery.lastSwitch();
      } catch {
        return; // malformed: the next switch rewrites it
      }
      if (!now || sameSwitch(now, followed)) return;
      if (failed && sameSwitch(now, failed.record) && Date.now() < failed.until) return;
      try {
        await switcher.follow(now);
        failed = undefined;
      } catch (err) {
        failed = { record: now, until: Date.now() + FOLLOW_RETRY_MS };
        log.error({ err, lastSwitch: now, retryInMs: FOLLOW_RETRY_MS }, 'cannot follow the model switch recorded by another process; enrolments here are refused (DFG_ERR_MODEL_SWITCHED) until it can');
      }
    })().finally(() => {
      following = undefined;
    });
    return following;
  };

  /** Opens the first serving pair; while the shared store cannot be reached, tries again every few seconds. */
  const openFirstPair = async (): Promise<Awaited<ReturnType<typeof openStartPair>>> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await openStartPair(config, log);
      } catch (err) {
        if (closed || !isDfgError(err, 'DFG_ERR_STORE_UNAVAILABLE')) throw err;
        if (attempt === 1) log.warn({ err, retryMs: STORE_RETRY_MS }, 'gallery store unreachable at start; trying again until it answers (503 DFG_ERR_SERVER_NOT_READY meanwhile)');
        await new Promise((r) => setTimeout(r, STORE_RETRY_MS));
      }
    }
  };

  const whenReady = (async () => {
    ({ pair: current, origin } = await openFirstPair());
    if (closed) return;
    // Without DFG_MODEL the service serves the recorded list and follows later switches.
    followed = config.DFG_MODEL === undefined ? origin.lastSwitch : undefined;
    current.parts.gallery.expectSwitch(followed);
    const refreshMs = opts.refreshMs ?? 1000;
    if (refreshMs > 0) {
      timer = setInterval(() => {
        current?.parts.gallery.refresh().then(
          () => {
            if (refreshFailing) log.info('gallery refresh works again');
            refreshFailing = false;
          },
          (err: unknown) => {
            // Once per outage: the index keeps answering from memory meanwhile.
            if (!refreshFailing) log.warn({ err }, 'gallery refresh failed; searching what the index holds until the store answers again');
            refreshFailing = true;
          },
        );
        void followSwitch();
      }, refreshMs);
      timer.unref();
    }
    if ((opts.autoCalibrateMs ?? 0) > 0) auto = autoCalibration(opts.autoCalibrateMs!);
  })().catch((err: Error) => {
    error = err;
    if (opts.logStartFailure ?? true) log.error({ err }, 'start-up failed');
    throw err;
  });
  // Callers that never await whenReady must not crash the process with an unhandled rejection.
  whenReady.catch(() => {});

  const switcher = createModelSwitcher({
    config,
    log,
    current: () => current,
    install: (next) => {
      current = next;
      // A calibration of the replaced gallery would be stored for models no longer served.
      auto?.cancel();
    },
    recorded: (lastSwitch) => {
      origin = { ...origin!, source: 'switch', lastSwitch };
      followed = lastSwitch;
    },
    closing: () => closed,
  });

  function autoCalibration(everyMs: number): AutoCalibrator {
    return startAutoCalibration({
      everyMs,
      topM: config.DFG_TOP_M,
      targetFpir: config.DFG_TARGET_FPIR,
      metric: metricSetting(config),
      log,
      acquire() {
        // Never beside a model switch (it checks, loads and swaps the gallery) or a close.
        if (closed || !current || switcher.busy()) return undefined;
        const cohort = calibrationCohort(current.parts.embedder.cohort, scoreNormSetting(config));
        return { gallery: current.parts.gallery, ...(cohort ? { cohort } : {}), release: current.hold() };
      },
    });
  }

  const need = (): ServingPair => {
    if (current) return current;
    throw dfgError('DFG_ERR_SERVER_NOT_READY', error ? `start-up failed: ${error.message}` : 'model and gallery are loading');
  };

  return {
    config,
    whenReady,
    need: () => need().parts,
    async use(fn) {
      const run = async () => {
        const pair = need();
        const release = pair.hold();
        try {
          return await fn(pair.parts);
        } finally {
          release();
        }
      };
      const before = current;
      try {
        return await run();
      } catch (err) {
        // Another process switched models between this call's embedding and its commit (nothing
        // was stored): follow the switch, then run once more on the new models.
        if (!isDfgError(err, 'DFG_ERR_MODEL_SWITCHED')) throw err;
        await followSwitch();
        if (current === before) throw err;
        log.info({ model: current && servedList(current.parts) }, 'enrolment raced a model switch: retried on the new models');
        return run();
      }
    },
    peek: () => ({ embedder: current?.parts.embedder, gallery: current?.parts.gallery, error }),
    origin: () => {
      need();
      return origin!;
    },
    switchModels: (list, switchOpts) => switcher.switchModels(list, switchOpts),
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await whenReady.catch(() => {});
      await auto?.close();
      // A switch still loading closes what it loaded; one past its swap closes the old pair.
      await switcher.settled();
      await current?.close();
    },
  };
}

/**
 * The gallery models a service started now would serve (DFG_MODEL, else the recorded switch, see
 * served-models.ts; dimensions from their manifests), for tools that open the gallery without
 * embedding anything (calibration). Rejects with the manifest errors.
 */
export async function configuredGalleryModels(config: Config, log: Logger): Promise<GalleryModel[]> {
  const out: GalleryModel[] = [];
  for (const m of (await chooseStartModels(config, log)).models) out.push({ id: m.id, dim: (await loadManifest(config.DFG_MODELS_DIR, m.id)).manifest.output.dim, weight: m.weight });
  return out;
}

/** Services that never load (for generating the OpenAPI document without a model or a gallery). */
export function unloadedServices(config: Config): Services {
  const error = new Error('not started');
  const whenReady = Promise.reject(error);
  whenReady.catch(() => {});
  return {
    config,
    whenReady,
    need() { throw dfgError('DFG_ERR_SERVER_NOT_READY', 'services not started'); },
    use: async () => { throw dfgError('DFG_ERR_SERVER_NOT_READY', 'services not started'); },
    peek: () => ({}),
    origin() { throw dfgError('DFG_ERR_SERVER_NOT_READY', 'services not started'); },
    switchModels: async () => { throw dfgError('DFG_ERR_SERVER_NOT_READY', 'services not started'); },
    close: async () => {},
  };
}
