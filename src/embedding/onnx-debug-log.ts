/**
 * onnxruntime's Linux build opens an empty `mat-debug-<pid>.log` in the temporary directory for
 * every process that loads it, and never removes it: one stray file per server, worker or CLI run.
 * This removes the empty ones of processes that are gone (at pool start) and this process's own
 * (at pool close). Files with content are kept: someone turned that tracing on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const NAME = /^mat-debug-(\d+)\.log$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes empty onnxruntime debug logs of dead processes (and this one's when `own`); returns the names removed. */
export function removeOnnxDebugLogs(opts: { own: boolean; dir?: string }): string[] {
  const dir = opts.dir ?? os.tmpdir();
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid ? !opts.own : alive(pid)) continue;
    const file = path.join(dir, name);
    try {
      const st = fs.lstatSync(file);
      if (!st.isFile() || st.size > 0 || (typeof process.getuid === 'function' && st.uid !== process.getuid())) continue;
      fs.unlinkSync(file);
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}
