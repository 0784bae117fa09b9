/** Writes openapi.yaml and the README's error table: `npm run openapi`. */
import fs from 'node:fs';
import path from 'node:path';
import { generateOpenApiYaml, withErrorTable } from '../src/openapi.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const out = path.join(root, 'openapi.yaml');
fs.writeFileSync(out, await generateOpenApiYaml());
console.log(`wrote ${out}`);
const readme = path.join(root, 'README.md');
fs.writeFileSync(readme, withErrorTable(fs.readFileSync(readme, 'utf8')));
console.log(`updated the error table in ${readme}`);
