/**
 * `.env.example` and the README's configuration table list every setting of the config schema, so
 * a setting added to the code cannot stay undocumented.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigSchema } from '../src/config/index.js';
import { ROOT } from './helpers/app.js';

t.test('every setting is in .env.example and in the README', async (t) => {
  const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const keys = Object.keys(ConfigSchema.properties);
  t.ok(keys.length > 40, `${keys.length} settings`);
  t.same(keys.filter((k) => !new RegExp(`^#? ?${k}=`, 'm').test(example)), [], '.env.example names each (commented out where it has no default)');
  t.same(keys.filter((k) => !readme.includes(`\`${k}\``)), [], 'the README documents each');
});
