// One algorithm: rename, enable or disable, threshold, delete (with a confirmation saying what
// goes), enrol by drag and drop, and its samples as thumbnails.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { zipSync } from 'fflate';
import { api } from '../api.js';
import { DropZone, ErrorBox, isArchive, isImage, num, Thumb, useLoad, when } from '../ui.js';
import { JobProgress } from './jobs.js';

/** Loose files up to this many go through the samples endpoint; more become an enrolment job. */
export const SMALL_SET = 32;
/** Files per samples request (the service's default DFG_MAX_FILES is 32). */
const PER_REQUEST = 8;

function DeleteDialog({ algorithm, onCancel, onDeleted }) {
  const ref = useRef(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    ref.current.showModal();
  }, []);
  const confirm = async () => {
    try {
      await api(`/v1/algorithms/${encodeURIComponent(algorithm.id)}`, { method: 'DELETE' });
      onDeleted();
    } catch (err) {
      setError(err);
    }
  };
  return html`<dialog ref=${ref} class="confirm" aria-labelledby="delete-title" aria-describedby="delete-what" onCancel=${onCancel}>
    <h2 id="delete-title">Delete ${algorithm.name}?</h2>
    <p id="delete-what">This deletes the algorithm <strong>${algorithm.name}</strong> (${algorithm.forgeryType}, ${algorithm.architecture})
      and its <strong>${algorithm.sampleCount} enrolled sample${algorithm.sampleCount === 1 ? '' : 's'}</strong>, with their kept image bytes
      unless another algorithm enrolled the same image. Uploads will no longer be attributed to it. This cannot be undone.</p>
    <${ErrorBox} error=${error} />
    <div class="actions">
      <button type="button" class="danger" onClick=${confirm}>Delete ${algorithm.name} and ${algorithm.sampleCount} sample${algorithm.sampleCount === 1 ? '' : 's'}</button>
      <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    </div>
  </dialog>`;
}

function ManageForm({ algorithm, onChanged }) {
  const [name, setName] = useState(algorithm.name);
  const [threshold, setThreshold] = useState(algorithm.threshold === null ? '' : String(algorithm.threshold));
  const [error, setError] = useState(null);
  const [note, setNote] = useState('');
  const [confirming, setConfirming] = useState(false);
  const patch = async (body, done) => {
    setError(null);
    try {
      const updated = await api(`/v1/algorithms/${encodeURIComponent(algorithm.id)}`, { method: 'PATCH', json: body });
      setNote(done);
      onChanged(updated);
    } catch (err) {
      setError(err);
    }
  };
  return html`<section class="card" aria-labelledby="manage-title">
    <h2 id="manage-title">Manage</h2>
    <form class="inline" onSubmit=${(e) => { e.preventDefault(); patch({ name: name.trim() }, 'Renamed.'); }}>
      <label>Name <input value=${name} required maxlength="200" onInput=${(e) => setName(e.currentTarget.value)} /></label>
      <button type="submit">Rename</button>
    </form>
    <form class="inline" onSubmit=${(e) => { e.preventDefault(); patch({ threshold: threshold.trim() === '' ? null : Number(threshold) }, 'Threshold saved.'); }}>
      <label>Own threshold <input type="number" min="-1" max="1" step="0.001" value=${threshold} placeholder="none" onInput=${(e) => setThreshold(e.currentTarget.value)} /></label>
      <button type="submit">Set threshold</button>
      <span class="muted">empty = the calibrated or default threshold</span>
    </form>
    <p class="inline">
      ${algorithm.enabled
        ? html`<button type="button" onClick=${() => patch({ enabled: false }, 'Disabled: uploads are no longer attributed to it.')}>Disable</button>`
        : html`<button type="button" onClick=${() => patch({ enabled: true }, 'Enabled.')}>Enable</button>`}
      <button type="button" class="danger" onClick=${() => setConfirming(true)}>Delete…</button>
    </p>
    <p aria-live="polite" class="note">${note}</p>
    <${ErrorBox} error=${error} />
    ${confirming ? html`<${DeleteDialog} algorithm=${algorithm} onCancel=${() => setConfirming(false)} onDeleted=${() => { location.hash = '#/gallery'; }} />` : null}
  </section>`;
}

function Outcomes({ rows }) {
  if (rows.length === 0) return null;
  const counts = rows.reduce((c, r) => ({ ...c, [r.status]: (c[r.status] ?? 0) + 1 }), {});
  return html`<div class="outcomes">
    <p aria-live="polite"><strong>${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}</strong></p>
    <table class="data">
      <caption class="visually-hidden">Outcome per file</caption>
      <thead><tr><th scope="col">File</th><th scope="col">Outcome</th><th scope="col">Sample or error</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr>
        <td>${r.filename}</td>
        <td><span class=${`badge badge-${r.status}`}>${r.status}</span></td>
        <td>${r.error ? html`<code>${r.error.code}</code> ${r.error.message}` : html`<code>${r.sampleId ?? ''}</code>`}</td>
      </tr>`)}</tbody>
    </table>
  </div>`;
}

function Enrol({ algorithm, onEnrolled }) {
  const [rows, setRows] = useState([]);
  const [busy, setBusy] = useState(false);
  const [jobId, setJobId] = useState(null);
  const [error, setError] = useState(null);
  const [status, setStatus] = useState('');

  const submitJob = async (blob, name) => {
    const form = new FormData();
    form.append('algorithmId', algorithm.id);
    form.append('archive', blob, name);
    const accepted = await api('/v1/jobs/enrolments', { method: 'POST', form });
    setJobId(accepted.jobId);
  };

  const onFiles = async (files) => {
    setBusy(true);
    setError(null);
    setRows([]);
    setJobId(null);
    try {
      const archives = files.filter((f) => isArchive(f.name));
      const images = files.filter((f) => !isArchive(f.name) && isImage(f));
      const skipped = files.length - archives.length - images.length;
      for (const a of archives) {
        setStatus(`Uploading ${a.name} as an enrolment job…`);
        await submitJob(a.file, a.name);
      }
      if (images.length > SMALL_SET) {
        setStatus(`Packing ${images.length} images into an enrolment job…`);
        const entries = {};
        for (const f of images) entries[f.name] = [new Uint8Array(await f.file.arrayBuffer()), { level: 0 }];
        await submitJob(new Blob([zipSync(entries)], { type: 'application/zip' }), 'console-upload.zip');
      } else if (images.length > 0) {
        const out = [];
        for (let i = 0; i < images.length; i += PER_REQUEST) {
          const batch = images.slice(i, i + PER_REQUEST);
          setStatus(`Enrolling ${Math.min(i + PER_REQUEST, images.length)} of ${images.length}…`);
          const form = new FormData();
          for (const f of batch) form.append('files', f.file, f.name);
          try {
            const res = await api(`/v1/algorithms/${encodeURIComponent(algorithm.id)}/samples`, { method: 'POST', form });
            out.push(...res.results);
          } catch (err) {
            // When every file of a request fails the API answers with the first error: show it on each.
            out.push(...batch.map((f) => ({ filename: f.name, status: 'error', error: { code: err.code, message: err.message } })));
          }
          setRows([...out]);
        }
        onEnrolled();
      }
      setStatus(skipped > 0 ? `${skipped} file(s) skipped: not images or archives.` : '');
    } catch (err) {
      setError(err);
      setStatus('');
    } finally {
      setBusy(false);
    }
  };

  return html`<section class="card" aria-labelledby="enrol-title">
    <h2 id="enrol-title">Enrol samples</h2>
    <${DropZone} testId="enrol-drop" label=${`Drop images, a folder or a zip here to enrol them into ${algorithm.name}`}
      hint=${`Up to ${SMALL_SET} images are enrolled at once with an outcome per file; more, or an archive, become a background enrolment job.`}
      folders=${true} busy=${busy} onFiles=${onFiles} accept="image/*,.zip,.tar,.tgz,.gz" />
    <p aria-live="polite" class="note">${status}</p>
    <${ErrorBox} error=${error} />
    <${Outcomes} rows=${rows} />
    ${jobId ? html`<${JobProgress} id=${jobId} onDone=${() => {
      onEnrolled();
      // The service sees a worker's commits within about a second (its store refresh): count again then.
      setTimeout(onEnrolled, 1500);
    }} />` : null}
  </section>`;
}

function Samples({ algorithm, version }) {
  const { data, error } = useLoad(() => api(`/v1/algorithms/${encodeURIComponent(algorithm.id)}/samples?limit=48`), [algorithm.id, version]);
  return html`<section class="card" aria-labelledby="samples-title">
    <h2 id="samples-title">Samples${data ? ` (${data.total})` : ''}</h2>
    <${ErrorBox} error=${error} />
    ${data && data.total > data.items.length ? html`<p class="muted">The first ${data.items.length} are shown.</p>` : null}
    <ul class="thumbs">${(data?.items ?? []).map((s) => html`<li><${Thumb} algorithmId=${algorithm.id} sampleId=${s.id} label=${s.filename ?? s.id} />
      <span class="muted small">${s.filename ?? s.id}<br />${s.width}×${s.height}</span></li>`)}</ul>
  </section>`;
}

export function AlgorithmPage({ id }) {
  const [version, setVersion] = useState(0);
  const { data, error, reload } = useLoad(() => api(`/v1/algorithms/${encodeURIComponent(id)}`), [id, version]);
  const bump = () => setVersion((v) => v + 1);
  return html`<p><a href="#/gallery">← Gallery</a></p>
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${data ? html`
      <h1>${data.name} ${data.enabled ? null : html`<span class="badge badge-unknown">disabled</span>`}</h1>
      <dl class="facts card">
        <dt>Id</dt><dd><code>${data.id}</code></dd>
        <dt>Forgery type</dt><dd>${data.forgeryType}</dd>
        <dt>Architecture</dt><dd>${data.architecture}</dd>
        <dt>Samples</dt><dd>${data.sampleCount}</dd>
        <dt>Own threshold</dt><dd>${data.threshold === null ? 'none (calibrated or default)' : num(data.threshold)}</dd>
        <dt>Description</dt><dd>${data.description || '–'}</dd>
        <dt>Registered</dt><dd>${when(data.createdAt)}</dd>
      </dl>
      <${ManageForm} key=${`${data.id}-${data.updatedAt}`} algorithm=${data} onChanged=${bump} />
      <${Enrol} algorithm=${data} onEnrolled=${bump} />
      <${Samples} algorithm=${data} version=${version} />` : null}`;
}
