/**
 * The local-gallery CLI end to end, as a user runs it (child processes on one gallery folder):
 * `dfg enrol` (by name, --create, again by id), `dfg attribute`, `dfg calibrate`, `dfg gallery info`.
 */
import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ROOT, tempDir } from './helpers/app.js';
import { dfg } from './helpers/cli.js';
import { generatorImage, type Family } from './helpers/images.js';

t.test('dfg enrol, attribute and calibrate on a local gallery', async (t) => {
  const dir = tempDir('dfg-cli-local-');
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const env = { DFG_GALLERY_DIR: path.join(dir, 'gallery'), DFG_MODELS_DIR: path.join(ROOT, 'models'), DFG_THREADS: '1' };
  const families: Family[] = ['nearest2', 'bilinear4'];
  for (const [i, fam] of families.entries()) {
    await fs.mkdir(path.join(dir, fam));
    for (let s = 0; s < 4; s += 1) await fs.writeFile(path.join(dir, fam, `${s}.png`), await generatorImage(fam, 10 * i + s + 1));
  }

  const noGallery = await dfg(['enrol', 'nearest2', path.join(dir, 'nearest2')], env);
  t.equal(noGallery.code, 1, 'without --create, no gallery is created');
  t.match(noGallery.out, /^No gallery in .*gallery \(DFG_GALLERY_DIR\)/);

  const ids: Record<string, string> = {};
  for (const [i, fam] of families.entries()) {
    const r = await dfg(['enrol', '--create', '--architecture', 'GAN', fam, path.join(dir, fam), '--json'], env);
    t.equal(r.code, 0, `${fam}: ${r.out.slice(-300)}`);
    t.equal(r.stderr.includes(`created a new gallery in ${env.DFG_GALLERY_DIR} (DFG_GALLERY_DIR)`), i === 0, 'the first --create says it created the gallery, on stderr');
    const body = JSON.parse(r.out.slice(r.out.indexOf('{'))) as { algorithm: { id: string; name: string; architecture: string }; created: number };
    t.equal(body.created, 4);
    t.equal(body.algorithm.architecture, 'GAN');
    ids[fam] = body.algorithm.id;
  }

  const missing = await dfg(['enrol', 'nearest3', path.join(dir, 'nearest2')], env);
  t.equal(missing.code, 1, 'an unknown algorithm without --create is refused');
  t.match(missing.out, /^Algorithm nearest3 not found \(use --create/);

  // Again, by name in another case and by id: the existing algorithm, no new registration.
  await fs.writeFile(path.join(dir, 'extra.png'), await generatorImage('nearest2', 99));
  const byName = await dfg(['enrol', 'NEAREST2', path.join(dir, 'extra.png')], env);
  t.equal(byName.code, 0, byName.out);
  t.match(byName.out, new RegExp(`nearest2 \\(${ids.nearest2}\\): 1 enrolled`));
  const byId = await dfg(['enrol', ids.nearest2, path.join(dir, 'extra.png')], env);
  t.equal(byId.code, 0, 'a duplicate is not a failure: enrolment is idempotent');
  t.match(byId.out, /0 enrolled, 1 duplicates/);

  const info = await dfg(['gallery', 'info'], env);
  t.equal(info.code, 0, info.out);
  t.equal(JSON.parse(info.out.slice(info.out.indexOf('{'))).counts.algorithms, 2);

  const dry = await dfg(['calibrate', '--dry-run', '--json'], { ...env, DFG_TARGET_FPIR: '0.2' });
  t.equal(dry.code, 0, dry.out);
  t.equal(JSON.parse(dry.out.slice(dry.out.indexOf('{'))).stats.targetFpir, 0.2, 'without --target-fpir: DFG_TARGET_FPIR');
  const cal = await dfg(['calibrate', '--target-fpir', '0.1'], env);
  t.equal(cal.code, 0, cal.out);
  t.match(cal.out, /LOO rank-1\s+most confused with/);
  t.match(cal.out, /nearest2\s+5\s+/);

  const probe = path.join(dir, 'probe.png');
  await fs.writeFile(probe, await generatorImage('bilinear4', 777));
  await fs.writeFile(path.join(dir, 'broken.png'), Buffer.from('not an image'));
  const att = await dfg(['attribute', probe, path.join(dir, 'broken.png'), '--json'], env);
  t.equal(att.code, 1, 'a file that fails sets the exit code');
  const lines = att.out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { file: string; decision?: string; candidates?: { algorithm: { id: string } }[]; error?: string });
  const answer = lines.find((l) => l.file === probe);
  t.ok(answer && ['attributed', 'unknown'].includes(answer.decision!), 'the probe gets a decision');
  t.equal(answer?.candidates?.[0]?.algorithm.id, ids.bilinear4, 'nearest algorithm: its own family');
  t.match(lines.find((l) => l.file.endsWith('broken.png'))?.error, /^DFG_ERR_IMAGE_/, 'a coded error for the broken file');
});
