/**
 * A DFG_GALLERY_DIR without a gallery (a typo, a missing volume): the commands that only read or
 * maintain a gallery refuse it in one line that names the absolute path and how to create one, and
 * create nothing; `dfg enrol --create` creates the gallery and says so on stderr. (`dfg serve`
 * logging the gallery it creates: server.test.ts.)
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from './helpers/app.js';
import { dfg } from './helpers/cli.js';
import { generatorImage } from './helpers/images.js';

const dir = tempDir('dfg-cli-gallery-dir-');
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const env = { DFG_MODELS_DIR: path.join(ROOT, 'models'), DFG_THREADS: '1', LOG_LEVEL: undefined };
const probe = path.join(dir, 'probe.png');

/** Every local command that needs an existing gallery; none of them may create one. */
const REFUSING: string[][] = [
  ['attribute', probe],
  ['gallery', 'info'],
  ['gallery', 'rebuild'],
  ['gallery', 'reembed', '--model', 'residual-v1'],
  ['calibrate', '--dry-run'],
  ['enrol', 'nearest2', probe],
  // Before it connects to Redis: this one is not reachable.
  ['worker'],
];

const refusal = (gallery: string) =>
  new RegExp(`^No gallery in ${gallery.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(DFG_GALLERY_DIR\\): it has no gallery\\.sqlite\\. Check DFG_GALLERY_DIR, or create the gallery there: \`dfg enrol --create <algorithm> <images\\.\\.\\.>\`, or start the service \\(\`dfg serve\`\\)\\n$`);

t.before(async () => fs.writeFileSync(probe, await generatorImage('nearest2', 1)));

t.test('a missing folder: refused, and still missing', async (t) => {
  const typo = path.join(dir, 'galery');
  for (const args of REFUSING) {
    const r = await dfg(args, { ...env, DFG_GALLERY_DIR: typo, REDIS_URL: 'redis://127.0.0.1:1' });
    t.equal(r.code, 1, `${args[0]} ${args[1]}: exit 1`);
    t.match(r.stderr, refusal(typo), `${args[0]} ${args[1]}: one line naming the folder (${r.stderr.trim()})`);
    t.equal(r.stdout, '', `${args[0]} ${args[1]}: nothing on stdout`);
    t.notOk(fs.existsSync(typo), `${args[0]} ${args[1]}: no folder created`);
  }
});

t.test('a folder without a store (the parent of the gallery, say): refused, left empty; a relative path is named absolute', async (t) => {
  const empty = path.join(dir, 'empty');
  fs.mkdirSync(empty);
  for (const args of [['attribute', probe], ['gallery', 'info'], ['calibrate']]) {
    const r = await dfg(args, { ...env, DFG_GALLERY_DIR: 'empty' }, { cwd: dir });
    t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
    t.match(r.stderr, refusal(empty), `${args.join(' ')}: the absolute path`);
    t.same(fs.readdirSync(empty), [], `${args.join(' ')}: nothing created in it`);
  }
});

t.test('dfg enrol --create creates the gallery and says where; then the other commands open it', async (t) => {
  const gallery = path.join(dir, 'new', 'gallery');
  const created = await dfg(['enrol', '--create', 'nearest2', probe], { ...env, DFG_GALLERY_DIR: gallery });
  t.equal(created.code, 0, created.out);
  t.match(created.stderr, `created a new gallery in ${gallery} (DFG_GALLERY_DIR)\n`);
  t.match(created.stdout, /^nearest2 \(alg_\w+\): 1 enrolled/);
  t.ok(fs.existsSync(path.join(gallery, 'gallery.sqlite')));

  const again = await dfg(['enrol', 'nearest2', probe], { ...env, DFG_GALLERY_DIR: gallery });
  t.equal(again.code, 0, again.out);
  t.notMatch(again.stderr, /created a new gallery/, 'an existing gallery: nothing said');
  const info = await dfg(['gallery', 'info'], { ...env, DFG_GALLERY_DIR: gallery });
  t.equal(info.code, 0, info.out);
  t.match(JSON.parse(info.stdout), { counts: { algorithms: 1, samples: 1 } });
});
