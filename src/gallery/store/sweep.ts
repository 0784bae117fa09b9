/**
 * Start-up sweep of what a crash leaves in the gallery folder: temporary files (`*.tmp-<pid>-<id>`,
 * written before an atomic rename) of processes that are gone, and kept image blobs that no sample
 * names (written before an enrolment's commit that never came). Blobs younger than `minBlobAgeMs`
 * are left alone: another process may be enrolling them right now (and if one is removed anyway,
 * enrolment writes it again: DFG_ERR_IMAGE_NOT_KEPT).
 */
import fs from 'node:fs';
import path from 'node:path';

const TEMP = /\.tmp-(\d+)-[0-9a-f]{8}$/;
const SHA = /^[0-9a-f]{64}$/;

export interface SweepResult {
  tempFiles: number;
  orphanBlobs: number;
}

export interface SweepOptions {
  /** True when a sample names this sha256. */
  isReferenced(sha256: string): boolean | Promise<boolean>;
  /** Orphan blobs younger than this are kept (default 60 s). */
  minBlobAgeMs?: number;
  now?: number;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function entries(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function removeFile(file: string): boolean {
  try {
    fs.unlinkSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Removes crash leftovers below `galleryDir` (the folder itself, `index/`, `blobs/`); yields to the event loop between folders. */
export async function sweepCrashLeftovers(galleryDir: string, opts: SweepOptions): Promise<SweepResult> {
  const result: SweepResult = { tempFiles: 0, orphanBlobs: 0 };
  const now = opts.now ?? Date.now();
  const minAge = opts.minBlobAgeMs ?? 60_000;
  const blobsDir = path.join(galleryDir, 'blobs');
  const folders = [galleryDir, path.join(galleryDir, 'index'), ...entries(blobsDir).filter((d) => d.isDirectory() && /^[0-9a-f]{2}$/.test(d.name)).map((d) => path.join(blobsDir, d.name))];
  for (const dir of folders) {
    const inBlobs = path.dirname(dir) === blobsDir;
    for (const d of entries(dir)) {
      if (!d.isFile()) continue;
      const file = path.join(dir, d.name);
      const temp = TEMP.exec(d.name);
      if (temp) {
        if (!alive(Number(temp[1])) && removeFile(file)) result.tempFiles++;
        continue;
      }
      if (!inBlobs || !SHA.test(d.name) || !d.name.startsWith(path.basename(dir))) continue;
      if (await opts.isReferenced(d.name)) continue;
      let mtime: number;
      try {
        mtime = fs.statSync(file).mtimeMs;
      } catch {
        continue;
      }
      if (now - mtime >= minAge && removeFile(file)) result.orphanBlobs++;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return result;
}
