// Attribute one upload: the decision, its score against the threshold, the runner-up margin, the
// top candidates, and the evidence samples side by side with the upload.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Decision, DropZone, ErrorBox, num, ScoreBar, Thumb } from '../ui.js';

export function AttributePage() {
  const [upload, setUpload] = useState(null);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [k, setK] = useState(5);

  useEffect(() => () => upload && URL.revokeObjectURL(upload.url), [upload]);

  const onFiles = async ([first]) => {
    setError(null);
    setResult(null);
    setUpload({ name: first.name, url: URL.createObjectURL(first.file) });
    setBusy(true);
    try {
      const form = new FormData();
      form.append('file', first.file, first.name);
      setResult(await api(`/v1/attribute?k=${k}`, { method: 'POST', form }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const top = result?.candidates[0];
  return html`<h1>Attribute an image</h1>
    <div class="toolbar">
      <label>Candidates shown <input type="number" min="1" max="20" value=${k} onInput=${(e) => setK(Number(e.currentTarget.value) || 5)} /></label>
    </div>
    <${DropZone} testId="attribute-drop" label="Drop an image here to attribute it" multiple=${false} busy=${busy} onFiles=${onFiles} accept="image/*" />
    <p aria-live="polite" class="note">${busy ? 'Attributing…' : ''}</p>
    <${ErrorBox} error=${error} />
    ${result ? html`<section class="card result" aria-labelledby="result-title" data-decision=${result.decision}>
      <h2 id="result-title">Decision: <${Decision} value=${result.decision} />${result.algorithm ? html` <span class="algname">${result.algorithm.name}</span>` : null}</h2>
      <${ScoreBar} score=${result.score} threshold=${result.threshold} label=${result.algorithm?.name ?? top?.algorithm.name ?? 'best score'} />
      <dl class="facts">
        <dt>Margin over the runner-up</dt><dd>${result.candidates.length > 1 ? num(result.margin) : html`${num(result.margin)} <span class="muted">(no runner-up: the score against -1)</span>`}</dd>
        <dt>Model</dt><dd><code>${result.model.id}</code> ${result.model.version}, gallery version ${result.galleryVersion}</dd>
        <dt>Image</dt><dd>${result.image.width}×${result.image.height}, sha256 <code>${result.image.sha256.slice(0, 16)}…</code></dd>
        <dt>Time</dt><dd>${num(result.timings.totalMs, 1)} ms</dd>
      </dl>
      <h3>Upload and evidence</h3>
      <div class="evidence" data-testid="evidence">
        <figure class="upload"><img class="thumb" src=${upload.url} alt=${`upload ${upload.name}`} /><figcaption>upload: ${upload.name}</figcaption></figure>
        ${top ? top.evidence.map((sid) => html`<figure><${Thumb} algorithmId=${top.algorithm.id} sampleId=${sid} label=${`evidence ${sid} of ${top.algorithm.name}`} /><figcaption>${top.algorithm.name}<br /><code class="small">${sid}</code></figcaption></figure>`)
          : html`<p class="muted">The gallery has no enabled samples to compare with.</p>`}
      </div>
      <h3>Top candidates</h3>
      <table class="data">
        <caption class="visually-hidden">Candidates by score</caption>
        <thead><tr><th scope="col">#</th><th scope="col">Algorithm</th><th scope="col">Type</th><th scope="col">Score</th><th scope="col">Evidence samples</th></tr></thead>
        <tbody>${result.candidates.map((c, i) => html`<tr>
          <td class="n">${i + 1}</td><th scope="row"><a href=${`#/algorithms/${encodeURIComponent(c.algorithm.id)}`}>${c.algorithm.name}</a></th>
          <td>${c.algorithm.forgeryType} / ${c.algorithm.architecture}</td><td class="n">${num(c.score)}</td><td>${c.evidence.length}</td></tr>`)}
          ${result.candidates.length === 0 ? html`<tr><td colspan="5">No candidates.</td></tr>` : null}
        </tbody>
      </table>
    </section>` : null}`;
}
