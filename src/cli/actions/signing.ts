/**
 * `dfg keys signing create` (its options: ../commands/exchange.ts): a publisher's Ed25519 pair for
 * signing gallery bundles. Loads no gallery and no model.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createSigningKey } from '../../exchange/signing.js';

/** `dfg keys signing create` */
export async function createSigningKeyFiles(o: { id: string; out: string }): Promise<void> {
  const id = o.id.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)) throw new Error(`Expected a publisher id of letters, digits, '.', '_' or '-' for --id but received ${JSON.stringify(o.id)}`);
  const { privateKey, publicKey } = createSigningKey(id);
  await fsp.mkdir(o.out, { recursive: true });
  const priv = path.join(o.out, `${id}.key`);
  const pub = path.join(o.out, `${id}.pub.json`);
  await fsp.writeFile(priv, JSON.stringify(privateKey, null, 2) + '\n', { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(err.code === 'EEXIST' ? `${priv} exists; choose another --id or --out` : `${priv} cannot be written: ${err.message}`);
  });
  await fsp.chmod(priv, 0o600); // exactly 0600, whatever the umask
  await fsp.writeFile(pub, JSON.stringify(publicKey, null, 2) + '\n');
  console.error(`private key: ${priv} (keep it secret; dfg gallery export --key)`);
  console.error(`public key: ${pub} (partners add it to the "publishers" of their DFG_TRUSTED_PUBLISHERS file)`);
  console.log(JSON.stringify(publicKey));
}
