/**
 * The serving pair: one embedder and the gallery opened for its model list, which every request
 * uses together. A hot model switch replaces the pair while requests in flight keep the one they
 * started with: they hold it, and it closes only once every holder has released it.
 */
import type { Logger } from 'pino';
import { threadCount, type Config } from '../config/index.js';
import { createEmbedder, type Embedder, type ModelChoice } from '../embedding/index.js';
import { openGallery, type Gallery } from '../gallery/gallery.js';

/** What a request embeds and searches with. */
export interface Parts {
  embedder: Embedder;
  gallery: Gallery;
}

export interface ServingPair {
  readonly parts: Parts;
  /** Marks one user of the pair; the returned function releases it (a second call does nothing). */
  hold(): () => void;
  /** Users holding the pair now. */
  holders(): number;
  /**
   * Closes the embedder, then the gallery once no holder is left (the embedder settles every
   * accepted image first, so callers' continuations run before the gallery closes under them).
   * `drain`: wait for the holders before closing anything, so their requests still succeed (a
   * switch); without it the embedder stops taking new images at once (shutdown). Idempotent.
   */
  close(opts?: { drain?: boolean }): Promise<void>;
}

/**
 * Loads the embedder of `models` and opens the gallery of `config.DFG_GALLERY_DIR` for that list
 * (one index over the fused vector of every listed model, the model itself when there is one).
 * Rejects with the model and gallery errors, leaving nothing open.
 */
export async function openServingPair(config: Config, models: readonly ModelChoice[], log: Logger): Promise<ServingPair> {
  const t0 = performance.now();
  const embedder = await createEmbedder({
    modelsDir: config.DFG_MODELS_DIR,
    models: [...models],
    threads: threadCount(config),
    nice: config.DFG_INFERENCE_NICE,
    maxQueue: config.DFG_MAX_QUEUE,
    limits: { maxBytes: config.DFG_MAX_IMAGE_BYTES, maxPixels: config.DFG_MAX_PIXELS },
  });
  log.info({ model: embedder.model, models: embedder.models, threads: threadCount(config), ms: Math.round(performance.now() - t0) }, 'model loaded');
  let gallery: Gallery;
  try {
    gallery = await openGallery({
      dir: config.DFG_GALLERY_DIR,
      ...(config.DFG_STORE ? { store: config.DFG_STORE } : {}),
      models: embedder.models.map((m) => ({ id: m.id, dim: m.dim, weight: m.weight })),
      keepImages: config.DFG_KEEP_IMAGES,
      snapshotEvery: config.DFG_SNAPSHOT_EVERY,
      efSearch: Math.max(config.DFG_EF_SEARCH, config.DFG_K),
      log,
    });
  } catch (err) {
    await embedder.close();
    throw err;
  }
  log.info({ gallery: gallery.info() }, 'gallery ready');
  return servingPair({ embedder, gallery });
}

/** Wraps loaded parts with holder counting and the closing order. */
export function servingPair(parts: Parts): ServingPair {
  let holders = 0;
  let waiters: Array<() => void> = [];
  let closing: Promise<void> | undefined;
  const drained = (): Promise<void> => (holders === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve)));
  return {
    parts,
    hold() {
      holders += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holders -= 1;
        if (holders > 0) return;
        const ready = waiters;
        waiters = [];
        for (const w of ready) w();
      };
    },
    holders: () => holders,
    close(opts = {}) {
      return (closing ??= (async () => {
        if (opts.drain) await drained();
        await parts.embedder.close();
        await new Promise((resolve) => setImmediate(resolve));
        await drained();
        await parts.gallery.close();
      })());
    },
  };
}
