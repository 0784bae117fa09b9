// Shared pieces: error box, loading state, number formats, live polling, thumbnails, drop zone.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';

export function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong><code>${error.code ?? 'ERROR'}</code></strong> ${error.message}
    ${onRetry ? html` <button type="button" class="link" onClick=${onRetry}>Retry</button>` : null}
  </div>`;
}

export const pct = (x) => (x === null || x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)} %`);
export const num = (x, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d));
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '–');

/** Loads `fn()` now and whenever `deps` change; `everyMs` re-runs it (live pages). */
export function useLoad(fn, deps = [], everyMs = 0) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    let timer;
    const run = async () => {
      try {
        const data = await fn();
        if (alive) setState({ data, error: null, loading: false });
      } catch (error) {
        if (alive) setState((s) => ({ data: s.data, error, loading: false }));
      }
      if (alive && everyMs > 0) timer = setTimeout(run, everyMs);
    };
    run();
    const onKey = () => run();
    window.addEventListener('dfg-key-changed', onKey);
    return () => {
      alive = false;
      clearTimeout(timer);
      window.removeEventListener('dfg-key-changed', onKey);
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** A kept sample's thumbnail, fetched with the key; a placeholder saying why when there is none. */
export function Thumb({ algorithmId, sampleId, label }) {
  const [src, setSrc] = useState(null);
  const [why, setWhy] = useState(null);
  useEffect(() => {
    let url = null;
    let alive = true;
    setSrc(null);
    setWhy(null);
    api(`/v1/algorithms/${encodeURIComponent(algorithmId)}/samples/${encodeURIComponent(sampleId)}/thumbnail`, { as: 'response' })
      .then(async (res) => {
        url = URL.createObjectURL(await res.blob());
        if (alive) setSrc(url);
        else URL.revokeObjectURL(url);
      })
      .catch((err) => alive && setWhy(err.code === 'DFG_ERR_SAMPLE_IMAGE_NOT_KEPT' ? 'image not kept' : err.code === 'DFG_ERR_AUTH_FORBIDDEN' ? 'needs the register scope' : err.code));
    return () => {
      alive = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [algorithmId, sampleId]);
  const alt = label ?? `sample ${sampleId}`;
  if (src) return html`<img class="thumb" src=${src} alt=${alt} data-sample=${sampleId} />`;
  return html`<div class="thumb placeholder" role="img" aria-label=${`${alt}: ${why ?? 'loading'}`} data-sample=${sampleId}><span>${why ?? '…'}</span></div>`;
}

const IMAGE_NAME = /\.(jpe?g|png|webp|gif|tiff?|avif|heic|heif)$/i;
const ZIP_NAME = /\.(zip|tar|tgz|tar\.gz)$/i;

async function readEntry(entry, prefix, out) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    out.push({ file, name: prefix + file.name });
  } else if (entry.isDirectory) {
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const e of batch) await readEntry(e, `${prefix}${entry.name}/`, out);
    }
  }
}

/** Files of a drop, folders walked recursively; `name` keeps the folder path. */
export async function filesOfDrop(dataTransfer) {
  const out = [];
  const entries = [...(dataTransfer.items ?? [])].filter((i) => i.kind === 'file').map((i) => i.webkitGetAsEntry?.());
  if (entries.length > 0 && entries.every(Boolean)) {
    for (const e of entries) await readEntry(e, '', out);
    return out;
  }
  return [...dataTransfer.files].map((file) => ({ file, name: file.name }));
}

export const isArchive = (name) => ZIP_NAME.test(name);
export const isImage = (f) => IMAGE_NAME.test(f.name) || f.file.type.startsWith('image/');

/**
 * A drop target that is also a keyboard-reachable file picker (and a folder picker when `folders`).
 * Calls onFiles([{ file, name }]).
 */
export function DropZone({ label, hint, multiple = true, folders = false, accept, onFiles, busy, testId }) {
  const [over, setOver] = useState(false);
  const input = useRef(null);
  const dirInput = useRef(null);
  const pick = (e) => {
    const files = [...e.currentTarget.files].map((file) => ({ file, name: file.webkitRelativePath || file.name }));
    e.currentTarget.value = '';
    if (files.length) onFiles(files);
  };
  return html`<div class=${`dropzone${over ? ' over' : ''}${busy ? ' busy' : ''}`} data-testid=${testId}
      onDragOver=${(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave=${() => setOver(false)}
      onDrop=${async (e) => {
        e.preventDefault();
        setOver(false);
        const files = await filesOfDrop(e.dataTransfer);
        if (files.length) onFiles(files);
      }}>
    <p class="drop-label">${label}</p>
    ${hint ? html`<p class="muted">${hint}</p>` : null}
    <p>
      <button type="button" onClick=${() => input.current.click()} disabled=${busy}>Choose ${multiple ? 'files' : 'a file'}</button>
      ${folders ? html` <button type="button" onClick=${() => dirInput.current.click()} disabled=${busy}>Choose a folder</button>` : null}
    </p>
    <input ref=${input} class="visually-hidden" type="file" tabindex="-1" aria-hidden="true" multiple=${multiple} accept=${accept} onChange=${pick} />
    ${folders ? html`<input ref=${dirInput} class="visually-hidden" type="file" tabindex="-1" aria-hidden="true" webkitdirectory multiple onChange=${pick} />` : null}
  </div>`;
}

/** A labelled score bar against a threshold (SVG: no inline styles under the CSP). */
export function ScoreBar({ score, threshold, label }) {
  const clamp = (x) => Math.max(0, Math.min(1, x));
  const w = 400;
  const sx = clamp(score) * w;
  const tx = clamp(threshold) * w;
  const pass = score >= threshold;
  return html`<figure class="scorebar">
    <svg viewBox="0 0 ${w} 36" width=${w} height="36" role="img" aria-label=${`${label ?? 'score'} ${num(score)} against threshold ${num(threshold)}`}>
      <rect x="0" y="8" width=${w} height="16" class="bar-bg" />
      <rect x="0" y="8" width=${sx} height="16" class=${pass ? 'bar-pass' : 'bar-fail'} />
      <line x1=${tx} x2=${tx} y1="2" y2="30" class="bar-threshold" />
    </svg>
    <figcaption>score <strong>${num(score)}</strong> · threshold <strong>${num(threshold)}</strong> (the line)</figcaption>
  </figure>`;
}

export function Decision({ value }) {
  return html`<span class=${`badge badge-${value}`}>${value}</span>`;
}
