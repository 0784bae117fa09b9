/**
 * The long-lived parts a server or CLI needs: embedder (worker pool) and gallery (store + index).
 * They load in the background so the HTTP server can answer /livez at once and /readyz when done.
 */
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import { modelList, threadCount } from './config/index.js';
import { createEmbedder, loadManifest, type Embedder } from './embedding/index.js';
import { openGallery, type Gallery, type GalleryModel } from './gallery/index.js';
import { dfgError } from './errors.js';

export interface Services {
  readonly config: Config;
  /** Resolves when model and index are loaded; rejects with the load error. */
  readonly whenReady: Promise<void>;
  /** The loaded parts, or a 503 DFG_ERR_SERVER_NOT_READY while loading. */
  need(): { embedder: Embedder; gallery: Gallery };
  /** Loaded parts or undefined (for health and metrics). */
  peek(): { embedder?: Embedder; gallery?: Gallery; error?: Error };
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Catch up with samples that other processes (job workers, CLI) committed, every this many ms. 0 = never. */
  refreshMs?: number;
}

export function startServices(config: Config, log: Logger, opts: ServiceOptions = {}): Services {
  let embedder: Embedder | undefined;
  let gallery: Gallery | undefined;
  let error: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const whenReady = (async () => {
    const t0 = performance.now();
    embedder = await createEmbedder({
      modelsDir: config.DFG_MODELS_DIR,
      models: modelList(config),
      threads: threadCount(config),
      maxQueue: config.DFG_MAX_QUEUE,
      limits: { maxBytes: config.DFG_MAX_IMAGE_BYTES, maxPixels: config.DFG_MAX_PIXELS },
    });
    log.info({ model: embedder.model, models: embedder.models, threads: threadCount(config), ms: Math.round(performance.now() - t0) }, 'model loaded');
    gallery = await openGallery({
      dir: config.DFG_GALLERY_DIR,
      // One index over the fused vector of every listed model (the model itself when there is one).
      models: embedder.models.map((m) => ({ id: m.id, dim: m.dim, weight: m.weight })),
      keepImages: config.DFG_KEEP_IMAGES,
      snapshotEvery: config.DFG_SNAPSHOT_EVERY,
      efSearch: Math.max(config.DFG_EF_SEARCH, config.DFG_K),
      log,
    });
    log.info({ gallery: gallery.info() }, 'gallery ready');
    if (closed) return;
    const refreshMs = opts.refreshMs ?? 1000;
    if (refreshMs > 0) {
      timer = setInterval(() => {
        try {
          gallery?.refresh();
        } catch (err) {
          log.warn({ err }, 'gallery refresh failed');
        }
      }, refreshMs);
      timer.unref();
    }
  })().catch((err: Error) => {
    error = err;
    log.error({ err }, 'start-up failed');
    throw err;
  });
  // Callers that never await whenReady must not crash the process with an unhandled rejection.
  whenReady.catch(() => {});

  return {
    config,
    whenReady,
    need() {
      if (embedder && gallery) return { embedder, gallery };
      throw dfgError('DFG_ERR_SERVER_NOT_READY', error ? `start-up failed: ${error.message}` : 'model and gallery are loading');
    },
    peek: () => ({ embedder, gallery, error }),
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await whenReady.catch(() => {});
      // The embedder first: it settles every accepted image, and the callers' continuations
      // (search, enrolment commit) run before the gallery closes under them.
      await embedder?.close();
      await new Promise((resolve) => setImmediate(resolve));
      await gallery?.close();
    },
  };
}

/**
 * The gallery models DFG_MODEL lists (dimensions from their manifests), for tools that open the
 * gallery without embedding anything (calibration). Rejects with the manifest errors.
 */
export async function configuredGalleryModels(config: Config): Promise<GalleryModel[]> {
  const out: GalleryModel[] = [];
  for (const m of modelList(config)) out.push({ id: m.id, dim: (await loadManifest(config.DFG_MODELS_DIR, m.id)).manifest.output.dim, weight: m.weight });
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
    peek: () => ({}),
    close: async () => {},
  };
}
