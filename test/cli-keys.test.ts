/**
 * `dfg keys create` as a user runs it: the key once on stdout, the hashed entry on stderr or
 * appended to a keys file that the service loads, kept at mode 0600; refusals change nothing.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/app.js';
import { dfg, dfgInProcess } from './helpers/cli.js';
import { registerKeysCommand } from '../src/cli/commands/keys.js';
import { hashKey, loadKeysFile } from '../src/http/plugins/auth.js';

const mode = (file: string) => fs.statSync(file).mode & 0o777;

t.test('dfg keys create: the key once, its hash in the keys file', async (t) => {
  const dir = tempDir('dfg-keys-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keys.json');

  const plain = await dfg(['keys', 'create', '--id', 'platform']);
  t.equal(plain.code, 0, plain.out);
  const key = plain.stdout.trim();
  t.match(key, /^dfg_[\w-]{32}$/, 'stdout is the key alone');
  t.same(JSON.parse(plain.stderr), { id: 'platform', hash: hashKey(key), scopes: ['attribute'] }, 'stderr: the entry, default scope attribute');

  const first = await dfg(['keys', 'create', '--id', 'ops', '--scopes', 'admin, register', '--file', file]);
  t.equal(first.code, 0, first.out);
  t.equal(mode(file), 0o600, 'a new keys file is readable by its owner only');
  // Someone loosened it; the next append puts it back.
  fs.chmodSync(file, 0o644);
  const second = await dfg(['keys', 'create', '--id', 'tns', '--scopes', 'register,attribute', '--file', file]);
  t.equal(second.code, 0, second.out);
  t.equal(mode(file), 0o600, 'an existing keys file is 0600 after an append');
  const keys = loadKeysFile(file).keys;
  t.same(keys.map((k) => [k.id, k.scopes]), [['ops', ['admin', 'register']], ['tns', ['register', 'attribute']]], 'entries appended, valid for the service');
  t.equal(keys[1]!.hash, hashKey(second.stdout.trim()), 'the printed key matches its entry');
  t.same(fs.readdirSync(dir), ['keys.json'], 'no temporary file left behind');

  const bad = await dfg(['keys', 'create', '--id', 'x', '--scopes', 'attribute,root', '--file', file]);
  t.equal(bad.code, 1, 'an unknown scope is refused');
  t.equal(bad.out.trim().split('\n').length, 1, `one line: ${bad.out}`);
  t.match(bad.out, /Expected scopes among attribute, register, admin for --scopes but received "attribute,root"/);
  t.equal(loadKeysFile(file).keys.length, 2, 'and nothing was written');
});

t.test('dfg keys create refusals change nothing', async (t) => {
  const dir = tempDir('dfg-keys-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[]) => dfgInProcess(registerKeysCommand, ['keys', 'create', ...args]);

  const file = path.join(dir, 'keys.json');
  t.equal((await run(['--id', 'ops', '--file', file])).error, null);
  const before = fs.readFileSync(file, 'utf8');
  const refusals: Array<[string[], RegExp]> = [
    [['--id', 'ops', '--file', file], /already has a key named ops/],
    [['--id', '  ', '--file', file], /non-empty key name/],
    [['--id', 'x', '--scopes', ',', '--file', file], /Expected scopes among/],
  ];
  for (const [args, why] of refusals) {
    const r = await run(args);
    t.match(r.error?.message, why, args.join(' '));
    t.equal(r.stdout, '', 'no key printed');
  }
  t.equal(fs.readFileSync(file, 'utf8'), before, 'the keys file is unchanged');

  // A file the service would not load is never taken for an empty one, nor overwritten.
  for (const [name, text, why] of [['obj.json', '{}\n', /is not a keys file \(\/keys: /], ['junk.json', 'garbage\n', /is not JSON/]] as const) {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    const r = await run(['--id', 'x', '--file', f]);
    t.match(r.error?.message, why, name);
    t.notMatch(r.error?.message, /\n/, 'one line');
    t.equal(fs.readFileSync(f, 'utf8'), text, `${name} unchanged`);
  }
});
