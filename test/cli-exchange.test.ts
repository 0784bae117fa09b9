/**
 * `dfg keys signing create`, `dfg gallery export` and `dfg gallery import` as a user runs them:
 * a key pair (private file mode 0600), a bundle written from one gallery directory and imported
 * into another, refused without a trust list or with a bundle changed by one byte.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from './helpers/app.js';
import { dfg } from './helpers/cli.js';
import { generatorImage } from './helpers/images.js';

t.test('signing keys, export, import through the CLI', async (t) => {
  const dir = tempDir('dfg-cli-exchange-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const keys = path.join(dir, 'keys');
  const made = await dfg(['keys', 'signing', 'create', '--id', 'org-a', '--out', keys]);
  t.equal(made.code, 0, made.out);
  t.equal(fs.statSync(path.join(keys, 'org-a.key')).mode & 0o777, 0o600, 'private key readable by its owner only');
  const pub = JSON.parse(fs.readFileSync(path.join(keys, 'org-a.pub.json'), 'utf8'));
  t.match(pub, { id: 'org-a', algorithm: 'ed25519', publicKey: /^[A-Za-z0-9_-]{43}$/ });
  t.same(JSON.parse(made.stdout), pub, 'the public entry on stdout');
  const again = await dfg(['keys', 'signing', 'create', '--id', 'org-a', '--out', keys]);
  t.equal(again.code, 1, 'an existing key is never overwritten');
  const trusted = path.join(dir, 'trusted.json');
  fs.writeFileSync(trusted, JSON.stringify({ publishers: [pub] }));

  const images = path.join(dir, 'imgs');
  fs.mkdirSync(images);
  for (const s of [1, 2]) fs.writeFileSync(path.join(images, `${s}.png`), await generatorImage('nearest2', s));
  const env = { DFG_MODELS_DIR: path.join(ROOT, 'models'), DFG_MODEL: 'residual-v2', DFG_THREADS: '1' };
  const g1 = { ...env, DFG_GALLERY_DIR: path.join(dir, 'g1') };
  const g2 = { ...env, DFG_GALLERY_DIR: path.join(dir, 'g2') };
  t.equal((await dfg(['enrol', '--create', 'Alpha', images], g1)).code, 0);
  const bundle = path.join(dir, 'a.dfgb');
  const exported = await dfg(['gallery', 'export', '--algorithms', 'alpha', '--out', bundle, '--key', path.join(keys, 'org-a.key'), '--json'], g1);
  t.equal(exported.code, 0, exported.out);
  t.match(JSON.parse(exported.stdout), { algorithms: 1, samples: 2, images: 0, publisher: 'org-a' });

  const untrusted = await dfg(['gallery', 'import', bundle, '--create'], g2);
  t.match(untrusted.stderr, /^DFG_ERR_BUNDLE_TRUST_NOT_CONFIGURED: /);
  t.notOk(fs.existsSync(path.join(dir, 'g2')), 'refused before any gallery was created');
  const bad = await dfg(['gallery', 'import', bundle, '--on-conflict', 'replace'], g2);
  t.match(bad.stderr, /Expected one of new, merge, skip/);

  const imported = await dfg(['gallery', 'import', bundle, '--create', '--json'], { ...g2, DFG_TRUSTED_PUBLISHERS: trusted });
  t.equal(imported.code, 0, imported.out);
  t.match(JSON.parse(imported.stdout), { publisher: 'org-a', created: 2, models: { 'residual-v2': 'bundle' }, algorithms: [{ name: 'Alpha', action: 'created' }] });

  const bytes = fs.readFileSync(bundle);
  bytes[700] = bytes[700]! ^ 1;
  fs.writeFileSync(bundle, bytes);
  const tampered = await dfg(['gallery', 'import', bundle, '--on-conflict', 'merge'], { ...g2, DFG_TRUSTED_PUBLISHERS: trusted });
  t.equal(tampered.code, 1);
  t.match(tampered.stderr, /^DFG_ERR_BUNDLE_(TAMPERED|MALFORMED|BAD_SIGNATURE): /);
});
