/** A publisher's signing key written as the server reads it: DFG_SIGNING_KEY_FILE and a DFG_TRUSTED_PUBLISHERS list trusting it. */
import fs from 'node:fs';
import path from 'node:path';
import { createSigningKey } from '../../src/exchange/index.js';

export function signingFiles(dir: string, publisher: string): { pair: ReturnType<typeof createSigningKey>; keyFile: string; trusted: string } {
  const pair = createSigningKey(publisher);
  const keyFile = path.join(dir, `${publisher}.key`);
  fs.writeFileSync(keyFile, JSON.stringify(pair.privateKey), { mode: 0o600 });
  const trusted = path.join(dir, 'trusted.json');
  fs.writeFileSync(trusted, JSON.stringify({ publishers: [pair.publicKey] }));
  return { pair, keyFile, trusted };
}
