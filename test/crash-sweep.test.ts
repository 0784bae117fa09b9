/**
 * Durability with the start-up sweep: `dfg serve` killed with SIGKILL while enrolments are in
 * flight keeps every acknowledged sample (counted), and the next start removes the crash's
 * leftovers (temporary files of the dead process, unreferenced blobs) without touching a kept image.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/app.js';
import { generatorImage } from './helpers/images.js';
import { serve, stop, upload } from './helpers/serve.js';

const ROUNDS = 2;
const PER_REQUEST = 4;

function blobFiles(dir: string): string[] {
  const root = path.join(dir, 'blobs');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).flatMap((sub) => fs.readdirSync(path.join(root, sub)).map((f) => path.join(root, sub, f)));
}

t.test('kill -9 during enrolment: acknowledged samples survive, crash leftovers are swept at the next start', async (t) => {
  const dir = tempDir();
  let p = await serve(dir);
  t.teardown(() => { p.child.kill('SIGKILL'); });
  const alg = await (await fetch(`${p.url}/v1/algorithms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'k', forgeryType: 'EFS', architecture: 'GAN' }) })).json() as { id: string };

  const acknowledged = new Set<string>();
  let seed = 1;
  for (let round = 0; round < ROUNDS; round++) {
    // Clients keep enrolling until the kill lands, so requests are in flight when it does.
    let killed = false;
    let cut = 0;
    const url = p.url;
    const clients = Array.from({ length: 4 }, async () => {
      while (!killed) {
        const files = await Promise.all(Array.from({ length: PER_REQUEST }, async () => {
          const s = seed++;
          return [`s${s}.png`, await generatorImage(s % 2 ? 'nearest2' : 'bilinear4', 9000 + s)] as [string, Buffer];
        }));
        const r = await upload(`${url}/v1/algorithms/${alg.id}/samples`, files).catch(() => null);
        if (!r || r.status !== 201) { cut++; continue; }
        const body = await r.json().catch(() => null) as { results: Array<{ status: string; sampleId?: string }> } | null;
        if (!body) { cut++; continue; }
        for (const it of body.results) if (it.status === 'created' && it.sampleId) acknowledged.add(it.sampleId);
      }
    });
    await new Promise((r) => setTimeout(r, 1500 + round * 500));
    const deadPid = p.child.pid!;
    const stopped = stop(p, 'SIGKILL');
    killed = true;
    t.equal(await stopped, null, `round ${round + 1}: killed`);
    await Promise.all(clients);
    t.ok(cut >= 1, `round ${round + 1}: ${cut} request(s) cut off by the kill`);

    // What a crash between temp write and rename, or between blob write and commit, leaves behind.
    fs.mkdirSync(path.join(dir, 'index'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'index', `crash.bin.tmp-${deadPid}-0badf00d`), 'partial');
    const orphanSha = (round + 1).toString(16).repeat(64).slice(0, 64);
    const orphan = path.join(dir, 'blobs', orphanSha.slice(0, 2), orphanSha);
    fs.mkdirSync(path.dirname(orphan), { recursive: true });
    fs.writeFileSync(orphan, 'never committed');
    const old = new Date(Date.now() - 3_600_000);
    fs.utimesSync(orphan, old, old);

    p = await serve(dir);
    await waitForLine(p.output, '"msg":"swept crash leftovers"');
    const sweptLine = p.output().split('\n').find((l) => l.includes('"msg":"swept crash leftovers"'))!;
    const swept = JSON.parse(sweptLine) as { tempFiles: number; orphanBlobs: number };
    t.ok(swept.tempFiles >= 1 && swept.orphanBlobs >= 1, `round ${round + 1}: swept ${swept.tempFiles} temp file(s), ${swept.orphanBlobs} orphan blob(s)`);
    t.notOk(fs.existsSync(path.join(dir, 'index', `crash.bin.tmp-${deadPid}-0badf00d`)), 'the dead process\'s temp file is gone');
    t.notOk(fs.existsSync(orphan), 'the orphan blob is gone');

    const page = await (await fetch(`${p.url}/v1/algorithms/${alg.id}/samples?limit=500`)).json() as { total: number; items: Array<{ id: string; sha256: string }> };
    const stored = new Set(page.items.map((s) => s.id));
    const lost = [...acknowledged].filter((id) => !stored.has(id));
    t.same(lost, [], `round ${round + 1}: all ${acknowledged.size} acknowledged samples are there (${page.total} stored)`);
    const blobs = new Set(blobFiles(dir).map((f) => path.basename(f)));
    t.ok(page.items.every((s) => blobs.has(s.sha256)), 'every stored sample still has its kept image');
  }
  t.ok(acknowledged.size > 0, `${acknowledged.size} samples acknowledged across ${ROUNDS} kills`);
  await stop(p, 'SIGTERM');
});

async function waitForLine(output: () => string, needle: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (output().includes(needle)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${needle} in:\n${output()}`);
}
