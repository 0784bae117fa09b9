// The API client of the console: same routes, same keys. The key lives only in sessionStorage
// (gone when the tab closes); every error is an ApiError carrying the API's catalogue code.

const KEY_NAME = 'dfg.apiKey';

export function getKey() {
  try {
    return sessionStorage.getItem(KEY_NAME) ?? '';
  } catch {
    return '';
  }
}

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY_NAME, key);
  else sessionStorage.removeItem(KEY_NAME);
  window.dispatchEvent(new CustomEvent('dfg-key-changed'));
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Codes that mean "enter a (different) key". */
export const AUTH_CODES = new Set(['DFG_ERR_AUTH_MISSING_KEY', 'DFG_ERR_AUTH_INVALID_KEY']);

function headers(extra = {}) {
  const key = getKey();
  return key ? { authorization: `Bearer ${key}`, ...extra } : extra;
}

/** A fetch of the API; `json` sends a JSON body, `form` a FormData; `as`: 'json' (default), 'response'. */
export async function api(path, { method = 'GET', json, form, as = 'json', signal } = {}) {
  const init = { method, headers: headers(json !== undefined ? { 'content-type': 'application/json' } : {}), signal };
  if (json !== undefined) init.body = JSON.stringify(json);
  if (form) init.body = form;
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', `The service could not be reached: ${err.message}`);
  }
  if (!res.ok) {
    let body = null;
    try {
      body = await res.json();
    } catch {
      // not JSON: fall back to the status line
    }
    const err = new ApiError(res.status, body?.code ?? `HTTP_${res.status}`, body?.message ?? res.statusText);
    if (AUTH_CODES.has(err.code)) window.dispatchEvent(new CustomEvent('dfg-auth-needed', { detail: err }));
    throw err;
  }
  if (as === 'response') return res;
  if (res.status === 204) return null;
  return res.json();
}

/** Saves a response body as a file the analyst downloads (a link cannot send the key). */
export async function download(path, filename) {
  const res = await api(path, { as: 'response' });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const FORGERY_TYPES = [
  ['FS', 'FS: face swapping'], ['FR', 'FR: face reenactment'], ['EFS', 'EFS: entire face synthesis'],
  ['FE', 'FE: face editing'], ['authentic', 'authentic: real images'], ['unknown', 'unknown'],
];
export const ARCHITECTURES = ['CNN', 'CG', 'GAN', 'Diffusion', 'VAR', 'closed-source', 'authentic', 'other'];
