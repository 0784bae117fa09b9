// Gallery overview: every algorithm with its taxonomy, samples, state, threshold and how well the
// last calibration tells it apart; the served model and index; register a new algorithm.
import { html } from 'htm/preact';
import { useMemo, useState } from 'preact/hooks';
import { api, ApiError, ARCHITECTURES, FORGERY_TYPES } from '../api.js';
import { ErrorBox, num, pct, useLoad, when } from '../ui.js';

/** The three reads need different scopes (attribute; register): what a key may not read is shown as its error. */
async function loadAll() {
  const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }));
  const [gallery, algorithms, calibration] = await Promise.all([
    settle(api('/v1/gallery')),
    settle(api('/v1/algorithms?limit=500')),
    settle(api('/v1/calibration').catch((err) => {
      if (err instanceof ApiError && err.code === 'DFG_ERR_CALIBRATION_NOT_FOUND') return null;
      throw err;
    })),
  ]);
  // Nothing readable at all (no key, a wrong one): one error for the page.
  if (gallery.error && algorithms.error) throw gallery.error;
  return {
    gallery: gallery.value ?? null, galleryError: gallery.error ?? null,
    algorithms: algorithms.value?.items ?? [], total: algorithms.value?.total ?? 0, algorithmsError: algorithms.error ?? null,
    calibration: calibration.value ?? null,
  };
}

const COLUMNS = [
  ['name', 'Name'], ['forgeryType', 'Forgery type'], ['architecture', 'Architecture'], ['sampleCount', 'Samples'],
  ['enabled', 'Enabled'], ['threshold', 'Threshold'], ['looRank1', 'LOO rank-1'], ['confusedWith', 'Most confused with'],
];

export function RegisterForm({ onCreated }) {
  const [form, setForm] = useState({ name: '', forgeryType: 'EFS', architecture: 'GAN', description: '' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { name: form.name.trim(), forgeryType: form.forgeryType, architecture: form.architecture };
      if (form.description.trim()) body.description = form.description.trim();
      const created = await api('/v1/algorithms', { method: 'POST', json: body });
      onCreated(created);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card register" onSubmit=${submit} aria-labelledby="register-title">
    <h2 id="register-title">Register an algorithm</h2>
    <div class="fields">
      <label>Name <input name="name" required maxlength="200" value=${form.name} onInput=${set('name')} /></label>
      <label>Forgery type <select name="forgeryType" value=${form.forgeryType} onChange=${set('forgeryType')}>
        ${FORGERY_TYPES.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></label>
      <label>Architecture <select name="architecture" value=${form.architecture} onChange=${set('architecture')}>
        ${ARCHITECTURES.map((v) => html`<option value=${v}>${v}</option>`)}</select></label>
      <label class="wide">Description <input name="description" maxlength="4000" value=${form.description} onInput=${set('description')} /></label>
    </div>
    <button type="submit" disabled=${busy}>Register</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

function ModelPanel({ gallery }) {
  const g = gallery;
  return html`<section class="card" aria-labelledby="model-title">
    <h2 id="model-title">Served model and index</h2>
    <dl class="facts">
      <dt>Model</dt><dd><code>${g.model.id}</code> ${g.model.version} (${g.model.dimension} dimensions, from ${g.model.source === 'switch' ? 'a recorded switch' : 'configuration'})</dd>
      <dt>Samples</dt><dd>${g.counts.samples} searched of ${g.counts.stored} stored${g.counts.needsReembedding ? `, ${g.counts.needsReembedding} need re-embedding` : ''}</dd>
      <dt>Algorithms</dt><dd>${g.counts.enabledAlgorithms} enabled of ${g.counts.algorithms}</dd>
      <dt>Index</dt><dd><span class=${`badge badge-${g.index.state === 'ready' ? 'attributed' : 'unknown'}`}>${g.index.state}</span> ${g.index.size} vectors, ${g.index.deleted} deleted, built from ${g.index.builtFrom}</dd>
      <dt>Gallery version</dt><dd>${g.version}</dd>
      <dt>Decision</dt><dd>default threshold ${num(g.decision.threshold)}, margin ${num(g.decision.margin)}, top-${g.decision.topM} of ${g.decision.k} neighbours</dd>
      <dt>Calibration</dt><dd>${g.calibration ? html`version ${g.calibration.version} of ${when(g.calibration.createdAt)}, target FPIR ${g.calibration.targetFpir}, global threshold ${num(g.calibration.global)}` : 'none yet'}</dd>
    </dl>
  </section>`;
}

export function GalleryPage() {
  const { data, error, loading, reload } = useLoad(loadAll, [], 0);
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState({ key: 'name', dir: 1 });

  const rows = useMemo(() => {
    if (!data) return [];
    const cal = new Map((data.calibration?.perAlgorithm ?? []).map((r) => [r.algorithmId, r]));
    const q = query.trim().toLowerCase();
    const list = data.algorithms.map((a) => {
      const c = cal.get(a.id);
      return { ...a, cal: c, effectiveThreshold: a.threshold ?? c?.threshold ?? data.gallery?.decision.threshold ?? null, looRank1: c?.looRank1 ?? null, confusedWith: c?.confusedWith?.name ?? '' };
    }).filter((a) => !q || [a.name, a.forgeryType, a.architecture, a.description].some((s) => s?.toLowerCase().includes(q)));
    const val = (a) => (sort.key === 'threshold' ? a.effectiveThreshold : a[sort.key]);
    return list.sort((x, y) => {
      const a = val(x), b = val(y);
      if (a === b) return 0;
      if (a === null || a === undefined || a === '') return 1;
      if (b === null || b === undefined || b === '') return -1;
      return (a < b ? -1 : 1) * sort.dir;
    });
  }, [data, query, sort]);

  return html`<h1>Gallery</h1>
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${loading && !data ? html`<p aria-live="polite">Loading…</p>` : null}
    ${data ? html`
      ${data.gallery ? html`<${ModelPanel} gallery=${data.gallery} />` : html`<${ErrorBox} error=${data.galleryError} />`}
      ${data.algorithmsError ? html`<${ErrorBox} error=${data.algorithmsError} />` : html`<section class="card" aria-labelledby="alg-title">
        <h2 id="alg-title">Algorithms (${data.total})</h2>
        <p class="muted">${data.calibration ? `Threshold, leave-one-out rank-1 and confusions from calibration version ${data.calibration.version} (${data.calibration.automatic ? 'automatic' : 'requested'}).` : 'Not calibrated yet: thresholds are the default; rank-1 and confusions appear after a calibration.'}</p>
        <div class="toolbar">
          <label>Search <input type="search" value=${query} onInput=${(e) => setQuery(e.currentTarget.value)} placeholder="name, type, architecture" /></label>
        </div>
        <table class="data">
          <caption class="visually-hidden">Registered algorithms; the column buttons sort</caption>
          <thead><tr>${COLUMNS.map(([k, label]) => html`<th scope="col" aria-sort=${sort.key === k ? (sort.dir > 0 ? 'ascending' : 'descending') : undefined}>
            <button type="button" class="sort" onClick=${() => setSort({ key: k, dir: sort.key === k ? -sort.dir : 1 })}>${label}${sort.key === k ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''}</button></th>`)}</tr></thead>
          <tbody>
            ${rows.length === 0 ? html`<tr><td colspan=${COLUMNS.length}>${data.total === 0 ? 'No algorithms yet: register one below.' : 'Nothing matches the search.'}</td></tr>` : null}
            ${rows.map((a) => html`<tr data-algorithm=${a.name}>
              <th scope="row"><a href=${`#/algorithms/${encodeURIComponent(a.id)}`}>${a.name}</a></th>
              <td>${a.forgeryType}</td><td>${a.architecture}</td><td class="n">${a.sampleCount}</td>
              <td>${a.enabled ? 'yes' : html`<span class="badge badge-unknown">disabled</span>`}</td>
              <td class="n">${num(a.effectiveThreshold)} <span class="muted">${a.threshold !== null ? 'own' : a.cal ? 'calibrated' : 'default'}</span></td>
              <td class="n">${pct(a.looRank1)}</td>
              <td>${a.cal?.confusedWith ? html`${a.cal.confusedWith.name} <span class="muted">(${pct(a.cal.confusedWith.share)})</span>` : '–'}</td>
            </tr>`)}
          </tbody>
        </table>
      </section>`}
      ${data.algorithmsError ? null : html`<${RegisterForm} onCreated=${(a) => { location.hash = `#/algorithms/${encodeURIComponent(a.id)}`; }} />`}` : null}`;
}
