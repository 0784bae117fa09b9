/** Runs the built `dfg` CLI as a child process and collects its exit code and output. */
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ROOT } from './app.js';

/** `env` adds to (or, with undefined values, removes from) the parent's environment. */
export function dfg(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli', 'index.js'), ...args], { env: { ...process.env, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('exit', (code) => resolve({ code, out }));
  });
}
