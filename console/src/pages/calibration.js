// The current calibration: thresholds, acceptance rates, leave-one-out identification, and a
// picture of each algorithm's operating point (genuine against impostor acceptance); recalibrate
// for a chosen target FPIR (admin scope).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { ErrorBox, num, pct, useLoad, when } from '../ui.js';

async function load() {
  try {
    return await api('/v1/calibration');
  } catch (err) {
    if (err instanceof ApiError && err.code === 'DFG_ERR_CALIBRATION_NOT_FOUND') return { missing: err };
    throw err;
  }
}

/**
 * ROC space: impostor acceptance (false positive identification, log scale) across, genuine
 * acceptance up, one point per algorithm at its threshold; the dashed line is the target FPIR.
 */
function OperatingPoints({ cal }) {
  const W = 560, H = 330, L = 56, R = 16, T = 26, B = 44;
  const MIN = 1e-4;
  const x = (v) => L + ((Math.log10(Math.max(v, MIN)) - Math.log10(MIN)) / -Math.log10(MIN)) * (W - L - R);
  const y = (v) => T + (1 - v) * (H - T - B);
  const pts = cal.perAlgorithm.filter((r) => r.genuineAcceptance !== null && r.impostorAcceptance !== null);
  const decades = [1e-4, 1e-3, 1e-2, 1e-1, 1];
  const label = `Operating points of ${pts.length} algorithms: genuine acceptance against impostor acceptance (log scale); target FPIR ${cal.targetFpir}. `
    + pts.map((r) => `${r.name}: genuine ${pct(r.genuineAcceptance)}, impostor ${pct(r.impostorAcceptance)}`).join('; ');
  return html`<figure class="chart">
    <svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label=${label}>
      <rect x=${L} y=${T} width=${W - L - R} height=${H - T - B} class="plot-bg" />
      ${decades.map((d) => html`<line x1=${x(d)} x2=${x(d)} y1=${T} y2=${H - B} class="grid" /><text x=${x(d)} y=${H - B + 16} class="tick" text-anchor="middle">${d === MIN ? '≤1e-4' : d < 1 ? d.toExponential(0) : '1'}</text>`)}
      ${[0, 0.25, 0.5, 0.75, 1].map((v) => html`<line x1=${L} x2=${W - R} y1=${y(v)} y2=${y(v)} class="grid" /><text x=${L - 6} y=${y(v) + 4} class="tick" text-anchor="end">${v}</text>`)}
      <line x1=${x(cal.targetFpir)} x2=${x(cal.targetFpir)} y1=${T} y2=${H - B} class="target" />
      <text x=${x(cal.targetFpir) + 4} y=${T + 12} class="tick">target FPIR</text>
      ${pts.map((r, i) => {
        // Points that coincide (often: every algorithm at 100 % / 0 %) get their numbers side by side.
        const before = pts.slice(0, i).filter((o) => Math.hypot(x(o.impostorAcceptance) - x(r.impostorAcceptance), y(o.genuineAcceptance) - y(r.genuineAcceptance)) < 12).length;
        return html`<g class="pt"><circle cx=${x(r.impostorAcceptance)} cy=${y(r.genuineAcceptance)} r="5" /><text x=${x(r.impostorAcceptance) + 8 + before * 14} y=${y(r.genuineAcceptance) - 7} class="pt-label">${i + 1}</text></g>`;
      })}
      <text x=${(L + W - R) / 2} y=${H - 6} class="axis" text-anchor="middle">impostor acceptance (other algorithms' samples at or above the threshold)</text>
      <text x="14" y=${(T + H - B) / 2} class="axis" text-anchor="middle" transform=${`rotate(-90 14 ${(T + H - B) / 2})`}>genuine acceptance</text>
    </svg>
    <ol class="legend">${pts.map((r) => html`<li>${r.name}: genuine ${pct(r.genuineAcceptance)}, impostor ${pct(r.impostorAcceptance)} at ${num(r.threshold)}</li>`)}</ol>
    <figcaption>Each algorithm at its threshold: the share of its own samples (left out one at a time) accepted against the share of impostor scores accepted. Up and left is better.</figcaption>
  </figure>`;
}

function Recalibrate({ current, onDone }) {
  const [target, setTarget] = useState(String(current ?? 0.01));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [note, setNote] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNote('Calibrating…');
    try {
      const res = await api('/v1/calibration', { method: 'POST', json: { targetFpir: Number(target) } });
      setNote(`Calibration version ${res.version} made: global threshold ${num(res.global)}.`);
      onDone();
    } catch (err) {
      setError(err);
      setNote('');
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card inline" onSubmit=${submit} aria-labelledby="recal-title">
    <h2 id="recal-title">Recalibrate</h2>
    <label>Target FPIR <input type="number" min="0.0001" max="0.4999" step="0.0001" value=${target} onInput=${(e) => setTarget(e.currentTarget.value)} required /></label>
    <button type="submit" disabled=${busy}>Recalibrate now</button>
    <span class="muted">needs the admin scope</span>
    <p aria-live="polite" class="note">${note}</p>
    <${ErrorBox} error=${error} />
  </form>`;
}

export function CalibrationPage() {
  const { data, error, reload } = useLoad(load, []);
  const cal = data && !data.missing ? data : null;
  return html`<h1>Calibration</h1>
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${data?.missing ? html`<p class="card">No calibration of the served model yet (<code>${data.missing.code}</code>). It is made automatically once two algorithms have samples, or recalibrate below.</p>` : null}
    ${cal ? html`<section class="card" aria-labelledby="cal-title">
      <h2 id="cal-title">Version ${cal.version} · ${cal.automatic ? 'automatic' : 'requested'} · ${when(cal.createdAt)}</h2>
      <dl class="facts">
        <dt>Target FPIR</dt><dd>${cal.targetFpir}</dd>
        <dt>Global threshold</dt><dd>${num(cal.global)}</dd>
        <dt>Model</dt><dd><code>${cal.model}</code></dd>
        <dt>Metric</dt><dd>${cal.metric.kind}${cal.metric.kind === 'wccn' ? ` (shrinkage ${cal.metric.shrinkage}, ${cal.metric.samples} samples)` : ''}</dd>
        <dt>Negatives</dt><dd>${cal.negatives} samples of disabled algorithms</dd>
      </dl>
      <${OperatingPoints} cal=${cal} />
      <table class="data">
        <caption class="visually-hidden">Per-algorithm calibration</caption>
        <thead><tr><th scope="col">Algorithm</th><th scope="col">Samples</th><th scope="col">Threshold</th><th scope="col">Source</th><th scope="col">Genuine acceptance</th><th scope="col">Impostor acceptance</th><th scope="col">LOO rank-1</th><th scope="col">Most confused with</th></tr></thead>
        <tbody>${cal.perAlgorithm.map((r) => html`<tr>
          <th scope="row"><a href=${`#/algorithms/${encodeURIComponent(r.algorithmId)}`}>${r.name}</a></th><td class="n">${r.samples}</td><td class="n">${num(r.threshold)}</td><td>${r.source}</td>
          <td class="n">${pct(r.genuineAcceptance)}</td><td class="n">${pct(r.impostorAcceptance)}</td><td class="n">${pct(r.looRank1)}</td>
          <td>${r.confusedWith ? `${r.confusedWith.name} (${pct(r.confusedWith.share)})` : '–'}</td></tr>`)}</tbody>
      </table>
    </section>` : null}
    <${Recalibrate} current=${cal?.targetFpir} onDone=${reload} />`;
}
