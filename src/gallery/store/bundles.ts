/**
 * Bundle rows of the SQLite store: the signed bundles that samples and algorithms were imported
 * from (provenance). One row per bundle file, by its sha256; never logged in the change log, as
 * a bundle row changes no answer. Called only inside the store's transactions.
 */
import type Database from 'better-sqlite3';
import { newId, provenanceColumn, toBundle, toProvenance, type BundleRow } from './rows.js';
import type { CheckedSample } from './samples.js';
import type { AddSampleResult, AlgorithmInput, BundleInput, BundleRecord, Provenance } from '../types.js';

/** One algorithm of an import: created here (with its id in the exporting gallery) or an existing one merged into. */
export interface ImportPart {
  create?: { input: Required<AlgorithmInput>; sourceId: string };
  /** The existing algorithm merged into (when not `create`). */
  algorithmId?: string;
  /** Its samples, each with its id in the exporting gallery; their origin becomes the bundle's record. */
  items: Array<{ sample: CheckedSample; sourceId: string }>;
}

/** What an import wrote, part by part. */
export interface ImportApplied {
  bundle: BundleRecord;
  /** Whether the bundle's record is new and stays (it does not when the import added nothing). */
  recorded: boolean;
  parts: Array<{ algorithmId: string; created: boolean; results: AddSampleResult[] }>;
}


export function bundleStatements(db: Database.Database) {
  const q = {
    bySha: db.prepare('SELECT * FROM bundles WHERE sha256 = ?'),
    byId: db.prepare('SELECT * FROM bundles WHERE id = ?'),
    insert: db.prepare(`INSERT INTO bundles (id, sha256, publisher, key_fingerprint, software, exported_at, imported_at)
      VALUES (@id, @sha256, @publisher, @keyFingerprint, @software, @exportedAt, @importedAt)`),
    unused: db.prepare(`DELETE FROM bundles WHERE id = ? AND NOT EXISTS (SELECT 1 FROM samples WHERE bundle_id = bundles.id)
      AND NOT EXISTS (SELECT 1 FROM algorithms WHERE bundle_id = bundles.id)`),
    any: db.prepare('SELECT 1 FROM bundles LIMIT 1').pluck(),
    provenance: db.prepare(`SELECT s.id, ${provenanceColumn('json_object', 's')} FROM samples s
      WHERE s.id IN (SELECT value FROM json_each(?)) AND s.bundle_id IS NOT NULL`),
  };
  return {
    /** The bundle's row, created when it is new. */
    record(input: BundleInput, ts: string): { bundle: BundleRecord; created: boolean } {
      const row = q.bySha.get(input.sha256) as BundleRow | undefined;
      if (row) return { bundle: toBundle(row), created: false };
      const id = newId('bnd');
      q.insert.run({ ...input, id, importedAt: ts });
      return { bundle: toBundle(q.byId.get(id) as BundleRow), created: true };
    },
    get(id: string): BundleRecord | undefined {
      const row = q.byId.get(id) as BundleRow | undefined;
      return row && toBundle(row);
    },
    /** Removes the bundle's row when nothing names it (an import undone); whether it did. */
    forget: (id: string): boolean => q.unused.run(id).changes > 0,
    any: (): boolean => Boolean(q.any.get()),
    provenanceOf(sampleIds: readonly string[]): Map<string, Provenance> {
      const out = new Map<string, Provenance>();
      if (sampleIds.length === 0) return out;
      for (const r of q.provenance.all(JSON.stringify(sampleIds)) as Array<{ id: string; provenance: string | null }>) {
        const p = toProvenance(r.provenance);
        if (p) out.set(r.id, p);
      }
      return out;
    },
  };
}

export type BundleStatements = ReturnType<typeof bundleStatements>;
