/** `npm run bench`: every benchmark, each printed side by side with its baseline from the same run. */
import { runHttpBench, type Row } from './http.js';

function table(title: string, rows: Array<Record<string, string>>): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  console.log(`\n## ${title}\n`);
  console.log('| ' + cols.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |');
  console.log('|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|');
  for (const r of rows) console.log('| ' + cols.map((c, i) => (r[c] ?? '').padEnd(w[i]!)).join(' | ') + ' |');
}

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

if (want('http')) table('/v1/attribute vs raw pipeline (1024x1024 JPEG)', (await runHttpBench()) as unknown as Row[] as never);
process.exit(0);
