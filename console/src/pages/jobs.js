// Background jobs: the recent ones, followed live; one job's progress, errors and result rows
// (filtered, downloadable as CSV or NDJSON); an audit of a dropped batch.
import { html } from 'htm/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { zipSync } from 'fflate';
import { api, download } from '../api.js';
import { DropZone, ErrorBox, isArchive, isImage, num, useLoad, when } from '../ui.js';

const FINISHED = new Set(['completed', 'failed', 'cancelled']);
const FOLLOW_MS = 1000;

function Progress({ job }) {
  const p = job.progress;
  return html`<div class="progress">
    <progress max=${Math.max(p.total, 1)} value=${p.done} aria-label=${`job ${job.id} progress`}></progress>
    <span>${p.done} / ${p.total} (${num(p.percent, 0)} %)${p.failed ? `, ${p.failed} failed` : ''}</span>
  </div>`;
}

const countsText = (counts) => Object.entries(counts ?? {}).filter(([, v]) => v > 0).map(([k, v]) => `${v} ${k}`).join(', ') || '–';

/** A job's live progress bar (polls until it is finished). */
export function JobProgress({ id, onDone }) {
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let alive = true;
    let timer;
    const poll = async () => {
      try {
        const j = await api(`/v1/jobs/${encodeURIComponent(id)}`);
        if (!alive) return;
        setJob(j);
        setError(null);
        if (FINISHED.has(j.state)) {
          onDone?.(j);
          return;
        }
      } catch (err) {
        if (alive) setError(err);
      }
      if (alive) timer = setTimeout(poll, FOLLOW_MS);
    };
    poll();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [id]);
  return html`<div class="card job-live" data-job=${id} data-state=${job?.state ?? 'submitted'} aria-live="polite">
    <p>Job <a href=${`#/jobs/${encodeURIComponent(id)}`}><code>${id}</code></a>: <span class=${`badge badge-${job?.state ?? 'waiting'}`}>${job?.state ?? 'submitted'}</span>
      ${job ? html` · ${countsText(job.counts)}` : null}</p>
    ${job ? html`<${Progress} job=${job} />` : null}
    <${ErrorBox} error=${error} />
  </div>`;
}

function Audit() {
  const [jobId, setJobId] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const onFiles = async (files) => {
    setBusy(true);
    setError(null);
    try {
      const archive = files.find((f) => isArchive(f.name));
      let blob, name;
      if (archive && files.length === 1) {
        blob = archive.file;
        name = archive.name;
      } else {
        const entries = {};
        for (const f of files.filter(isImage)) entries[f.name] = [new Uint8Array(await f.file.arrayBuffer()), { level: 0 }];
        blob = new Blob([zipSync(entries)], { type: 'application/zip' });
        name = 'console-audit.zip';
      }
      const form = new FormData();
      form.append('archive', blob, name);
      setJobId((await api('/v1/jobs/audits', { method: 'POST', form })).jobId);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card" aria-labelledby="audit-title">
    <h2 id="audit-title">Audit a batch</h2>
    <${DropZone} testId="audit-drop" label="Drop images, a folder or an archive to attribute them all as a background job" folders=${true} busy=${busy} onFiles=${onFiles} />
    <${ErrorBox} error=${error} />
    ${jobId ? html`<${JobProgress} id=${jobId} />` : null}
  </section>`;
}

export function JobsPage() {
  const { data, error, reload } = useLoad(() => api('/v1/jobs?limit=50'), [], 2000);
  return html`<h1>Jobs</h1>
    <${ErrorBox} error=${error} onRetry=${reload} />
    <section class="card" aria-labelledby="jobs-title">
      <h2 id="jobs-title">Recent jobs ${data ? `(${data.total})` : ''}</h2>
      <p class="muted">Followed live: refreshed every 2 seconds.</p>
      <table class="data">
        <caption class="visually-hidden">Recent jobs, newest first</caption>
        <thead><tr><th scope="col">Job</th><th scope="col">Kind</th><th scope="col">Source</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Outcomes</th><th scope="col">Created</th></tr></thead>
        <tbody>
          ${data && data.items.length === 0 ? html`<tr><td colspan="7">No jobs yet.</td></tr>` : null}
          ${(data?.items ?? []).map((j) => html`<tr data-job=${j.id}>
            <th scope="row"><a href=${`#/jobs/${encodeURIComponent(j.id)}`}><code>${j.id}</code></a></th>
            <td>${j.kind}</td><td>${j.source.type}: ${j.source.name}</td>
            <td><span class=${`badge badge-${j.state}`}>${j.state}</span></td>
            <td><${Progress} job=${j} /></td><td>${countsText(j.counts)}</td><td>${when(j.timings.createdAt)}</td></tr>`)}
        </tbody>
      </table>
    </section>
    <${Audit} />`;
}

function parseNdjson(text) {
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

function Results({ job }) {
  const { data, error } = useLoad(async () => parseNdjson(await (await api(`/v1/jobs/${encodeURIComponent(job.id)}/results?format=ndjson`, { as: 'response' })).text()), [job.id, job.progress.done]);
  const [outcome, setOutcome] = useState('');
  const [algorithm, setAlgorithm] = useState('');
  const [text, setText] = useState('');
  const key = job.kind === 'audit' ? 'decision' : 'outcome';
  const rows = data ?? [];
  const outcomes = useMemo(() => [...new Set(rows.map((r) => r[key]).filter(Boolean))].sort(), [rows]);
  const algorithms = useMemo(() => [...new Set(rows.map((r) => r.algorithm).filter(Boolean))].sort(), [rows]);
  const shown = rows.filter((r) => (!outcome || r[key] === outcome) && (!algorithm || r.algorithm === algorithm)
    && (!text || `${r.name} ${r.sha256} ${r.error ?? ''}`.toLowerCase().includes(text.toLowerCase())));
  return html`<section class="card" aria-labelledby="results-title">
    <h2 id="results-title">Results</h2>
    <${ErrorBox} error=${error} />
    <div class="toolbar">
      <label>${key === 'decision' ? 'Decision' : 'Outcome'} <select value=${outcome} onChange=${(e) => setOutcome(e.currentTarget.value)}>
        <option value="">all</option>${outcomes.map((o) => html`<option value=${o}>${o}</option>`)}</select></label>
      ${job.kind === 'audit' ? html`<label>Algorithm <select value=${algorithm} onChange=${(e) => setAlgorithm(e.currentTarget.value)}>
        <option value="">all</option>${algorithms.map((o) => html`<option value=${o}>${o}</option>`)}</select></label>` : null}
      <label>Name contains <input type="search" value=${text} onInput=${(e) => setText(e.currentTarget.value)} /></label>
      <button type="button" onClick=${() => download(`/v1/jobs/${encodeURIComponent(job.id)}/results?format=csv`, `${job.id}.csv`)}>Download CSV</button>
      <button type="button" onClick=${() => download(`/v1/jobs/${encodeURIComponent(job.id)}/results?format=ndjson`, `${job.id}.ndjson`)}>Download NDJSON</button>
    </div>
    <p class="muted">${shown.length} of ${rows.length} rows</p>
    <table class="data">
      <caption class="visually-hidden">Result rows</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">${key === 'decision' ? 'Decision' : 'Outcome'}</th>
        ${job.kind === 'audit' ? html`<th scope="col">Algorithm</th><th scope="col">Score</th><th scope="col">Threshold</th>` : html`<th scope="col">Sample</th>`}
        <th scope="col">Error</th></tr></thead>
      <tbody>${shown.slice(0, 1000).map((r) => html`<tr>
        <td>${r.name}</td><td><span class=${`badge badge-${r[key]}`}>${r[key]}</span></td>
        ${job.kind === 'audit' ? html`<td>${r.algorithm ?? '–'}</td><td class="n">${num(r.score)}</td><td class="n">${num(r.threshold)}</td>` : html`<td><code>${r.sampleId ?? '–'}</code></td>`}
        <td>${r.error ? html`<code>${r.error}</code> ${r.message ?? ''}` : ''}</td></tr>`)}</tbody>
    </table>
  </section>`;
}

export function JobPage({ id }) {
  const { data: job, error, reload } = useLoad(() => api(`/v1/jobs/${encodeURIComponent(id)}`), [id], FOLLOW_MS * 2);
  return html`<p><a href="#/jobs">← Jobs</a></p>
    <h1>Job <code>${id}</code></h1>
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${job ? html`<section class="card" aria-labelledby="job-title">
      <h2 id="job-title">${job.kind} · <span class=${`badge badge-${job.state}`}>${job.state}</span></h2>
      <${Progress} job=${job} />
      <dl class="facts">
        <dt>Source</dt><dd>${job.source.type}: ${job.source.name}</dd>
        <dt>Outcomes</dt><dd>${countsText(job.counts)}</dd>
        ${job.algorithms?.length ? html`<dt>Per algorithm</dt><dd>${job.algorithms.map((a) => `${a.name}: ${a.count}`).join(', ')}</dd>` : null}
        <dt>Created</dt><dd>${when(job.timings.createdAt)}</dd>
        <dt>Finished</dt><dd>${when(job.timings.finishedAt)}${job.timings.imagesPerSecond ? ` (${num(job.timings.imagesPerSecond, 1)} images/s)` : ''}</dd>
      </dl>
      ${job.errors?.items.length ? html`<h3>Item errors (${job.errors.total})</h3><ul>${job.errors.items.slice(0, 50).map((e) => html`<li>${e.name}: <code>${e.code}</code> ${e.message}</li>`)}</ul>` : null}
      ${!FINISHED.has(job.state) ? html`<button type="button" onClick=${() => api(`/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' }).then(reload, reload)}>Cancel the job</button>` : null}
    </section>
    <${Results} job=${job} />` : null}`;
}
