/** Writes openapi.yaml at the repository root: `npm run openapi`. */
import fs from 'node:fs';
import path from 'node:path';
import { generateOpenApiYaml } from '../src/openapi.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const out = path.join(root, 'openapi.yaml');
fs.writeFileSync(out, await generateOpenApiYaml());
console.log(`wrote ${out}`);
