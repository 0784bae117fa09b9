/** `dfg gallery migrate --to <postgres-url> | --from <postgres-url>` (see gallery/store/copy.ts). */
import { loadConfig } from '../../config/index.js';
import { migrateStore } from '../../gallery/store/copy.js';
import { isPostgresUrl } from '../../gallery/store/pg.js';
import { requireGallery } from '../gallery-dir.js';

export interface MigrateOptions { to?: string; from?: string; json?: boolean }

/** Copies the SQLite gallery of DFG_GALLERY_DIR into PostgreSQL (--to), or a PostgreSQL gallery into it (--from), then verifies. */
export async function migrate(o: MigrateOptions): Promise<void> {
  if ((o.to === undefined) === (o.from === undefined)) throw new Error('Give exactly one of --to <postgres://…> (SQLite → PostgreSQL) and --from <postgres://…> (PostgreSQL → SQLite)');
  const url = (o.to ?? o.from)!;
  if (!isPostgresUrl(url)) throw new Error(`Expected a postgres:// URL but received ${JSON.stringify(url).slice(0, 200)}`);
  const config = loadConfig();
  const dir = { dir: config.DFG_GALLERY_DIR };
  if (o.to) requireGallery(config.DFG_GALLERY_DIR);
  let last = '';
  const result = await migrateStore(o.to ? dir : { url }, o.to ? { url } : dir, (table, n) => {
    const line = `${table}: ${n}`;
    if (!o.json && process.stderr.isTTY && line !== last) process.stderr.write(`\r${line.padEnd(40)}`);
    last = line;
  });
  if (!o.json && process.stderr.isTTY) process.stderr.write('\r'.padEnd(41) + '\r');
  if (o.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`${result.from} → ${result.to}`);
    for (const [table, s] of Object.entries(result.source)) {
      const d = result.target[table]!;
      const ok = s.count === d.count && s.sha256 === d.sha256;
      console.log(`  ${table.padEnd(13)} ${String(s.count).padStart(9)} rows  ${String(result.copied[table] ?? 0).padStart(9)} copied now  ${ok ? 'verified' : `MISMATCH (target ${d.count}, ${d.sha256.slice(0, 12)} vs ${s.sha256.slice(0, 12)})`}`);
    }
    console.log(result.verified ? 'verified: counts and SHA-256 digests agree' : 'NOT verified: run it again to resume, and stop every writer of the source first');
  }
  if (!result.verified) process.exitCode = 1;
}
