// The analyst's console: a hash-routed single page over the service's own API.
import { render } from 'preact';
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getKey, setKey } from './api.js';
import { GalleryPage } from './pages/gallery.js';
import { AlgorithmPage } from './pages/algorithm.js';
import { AttributePage } from './pages/attribute.js';
import { JobsPage, JobPage } from './pages/jobs.js';
import { CalibrationPage } from './pages/calibration.js';

const NAV = [
  ['#/gallery', 'Gallery'],
  ['#/attribute', 'Attribute'],
  ['#/jobs', 'Jobs'],
  ['#/calibration', 'Calibration'],
];

function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] ?? 'gallery', id: parts[1] ?? null };
}

function useRoute() {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

function KeyPanel({ reason, onClose }) {
  const [value, setValue] = useState('');
  const input = useRef(null);
  useEffect(() => input.current?.focus(), [reason]);
  const has = getKey() !== '';
  return html`<section class="keypanel" aria-labelledby="key-title">
    <h2 id="key-title">API key</h2>
    ${reason ? html`<p class="error" role="alert"><strong><code>${reason.code}</code></strong> ${reason.message}. ${
      reason.code === 'DFG_ERR_AUTH_INVALID_KEY' ? 'The key you entered is not accepted: enter another one.' : 'This service needs an API key: enter one.'}</p>` : null}
    <p class="muted">The key is kept only in this tab's session storage and sent as <code>Authorization: Bearer</code> to this service.
      ${has ? ' A key is set.' : ' No key is set (fine when the service runs without keys).'}</p>
    <form onSubmit=${(e) => { e.preventDefault(); setKey(value.trim()); setValue(''); onClose(); }}>
      <label for="api-key">Key</label>
      <input id="api-key" ref=${input} type="password" autocomplete="off" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} required />
      <button type="submit">Use this key</button>
      ${has ? html`<button type="button" onClick=${() => { setKey(''); onClose(); }}>Forget the key</button>` : null}
      <button type="button" class="link" onClick=${onClose}>Close</button>
    </form>
  </section>`;
}

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState(null);
  const [showKey, setShowKey] = useState(false);
  useEffect(() => {
    const on = (e) => { setAuth(e.detail); setShowKey(true); };
    window.addEventListener('dfg-auth-needed', on);
    return () => window.removeEventListener('dfg-auth-needed', on);
  }, []);
  useEffect(() => {
    const title = NAV.find(([h]) => h === `#/${route.page}`)?.[1] ?? (route.page === 'algorithms' ? 'Algorithm' : 'Gallery');
    document.title = `${title} · DeepfakeGenome console`;
  }, [route.page]);

  let page;
  switch (route.page) {
    case 'algorithms': page = html`<${AlgorithmPage} id=${route.id} />`; break;
    case 'attribute': page = html`<${AttributePage} />`; break;
    case 'jobs': page = route.id ? html`<${JobPage} id=${route.id} />` : html`<${JobsPage} />`; break;
    case 'calibration': page = html`<${CalibrationPage} />`; break;
    default: page = html`<${GalleryPage} />`;
  }
  const current = `#/${route.page === 'algorithms' ? 'gallery' : route.page}`;
  return html`
    <header class="top">
      <a class="brand" href="#/gallery">DeepfakeGenome <span>console</span></a>
      <nav aria-label="Pages">
        <ul>${NAV.map(([href, label]) => html`<li><a href=${href} aria-current=${current === href ? 'page' : undefined}>${label}</a></li>`)}</ul>
      </nav>
      <button type="button" class="keybutton" onClick=${() => { setAuth(null); setShowKey((s) => !s); }}>API key${getKey() ? ' ✓' : ''}</button>
    </header>
    ${showKey ? html`<${KeyPanel} reason=${auth} onClose=${() => { setShowKey(false); setAuth(null); }} />` : null}
    <main id="main">${page}</main>
    <footer class="muted"><a href="/docs">API documentation</a></footer>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
