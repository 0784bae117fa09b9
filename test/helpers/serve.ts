/** `dfg serve` as a child process, for what inject cannot show (kill -9, signals, the entry itself). */
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './app.js';

const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'index.js');

export interface Proc {
  child: ChildProcess;
  url: string;
  /** Everything it wrote so far (stdout and stderr: pino lines). */
  output(): string;
}

/**
 * Starts `dfg serve` on an ephemeral port over `galleryDir` (models: the repository's; `env` adds
 * to or overrides the environment) and waits until /readyz answers 200.
 */
export async function serve(galleryDir: string, env: Record<string, string> = {}): Promise<Proc> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DFG_GALLERY_DIR: galleryDir, DFG_MODELS_DIR: path.join(ROOT, 'models'), DFG_THREADS: '1', LOG_LEVEL: 'info', DFG_API_KEYS_FILE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"address":"(http:\/\/[^"]+)"/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}:\n${out}`)); });
  });
  for (let i = 0; i < 600; i++) {
    const r = await fetch(`${url}/readyz`).catch(() => null);
    if (r?.status === 200) return { child, url, output: () => out };
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('not ready');
}

export function stop(p: Proc, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    p.child.removeAllListeners('exit');
    p.child.once('exit', (code) => resolve(code));
    p.child.kill(signal);
  });
}

/** POSTs image files as the multipart field `files`. */
export async function upload(url: string, files: Array<[string, Buffer]>): Promise<Response> {
  const form = new FormData();
  for (const [name, data] of files) form.append('files', new Blob([new Uint8Array(data)]), name);
  return fetch(url, { method: 'POST', body: form });
}
