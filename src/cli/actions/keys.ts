/**
 * `dfg keys create`: a new API key. The key is printed once; only its hash goes to the keys
 * file (DFG_API_KEYS_FILE), which holds secrets' hashes and is kept readable by its owner only.
 * Its options: ../commands/keys.ts.
 */
import fs from 'node:fs/promises';
import { Value } from '@sinclair/typebox/value';
import { generateKey, KeysFileSchema, SCOPES, type KeysFile, type Scope } from '../../http/plugins/auth.js';

/** The keys file at `file`, or an empty one when there is none; anything else that the service would refuse is refused. */
async function readKeysFile(file: string): Promise<KeysFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [] };
    throw new Error(`Keys file ${file} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`Keys file ${file} is not JSON (${(err as Error).message.replace(/\s+/g, ' ')}); nothing written`, { cause: err });
  }
  if (!Value.Check(KeysFileSchema, parsed)) {
    const first = [...Value.Errors(KeysFileSchema, parsed)][0];
    throw new Error(`Keys file ${file} is not a keys file (${first?.path || '/'}: ${first?.message}); nothing written`);
  }
  return parsed;
}

/** Replaces `file` in one step (a crash leaves the old file or the new one), mode 0600 either way. */
async function writeKeysFile(file: string, keys: KeysFile): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await fs.writeFile(tmp, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    await fs.chmod(tmp, 0o600); // exactly 0600, whatever the umask
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw new Error(`Keys file ${file} cannot be written: ${(err as Error).message}`, { cause: err });
  }
}

export interface CreateKeyOptions { id: string; scopes: string; file?: string }

/** `dfg keys create` */
export async function createKey(o: CreateKeyOptions): Promise<void> {
  const id = o.id.trim();
  if (id === '') throw new Error('Expected a non-empty key name for --id');
  const scopes = [...new Set(o.scopes.split(',').map((s) => s.trim()).filter(Boolean))] as Scope[];
  const bad = scopes.filter((s) => !SCOPES.includes(s));
  if (bad.length || scopes.length === 0) throw new Error(`Expected scopes among ${SCOPES.join(', ')} for --scopes but received ${JSON.stringify(o.scopes)}`);
  const { key, entry } = generateKey(id, scopes);
  if (o.file) {
    const existing = await readKeysFile(o.file);
    if (existing.keys.some((k) => k.id === id)) throw new Error(`Keys file ${o.file} already has a key named ${id}; choose another --id`);
    existing.keys.push(entry);
    await writeKeysFile(o.file, existing);
    console.error(`added ${id} to ${o.file}`);
  } else console.error(JSON.stringify(entry));
  console.log(key);
}
