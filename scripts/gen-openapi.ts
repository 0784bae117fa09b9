/** Writes openapi.yaml, the client's types generated from it, and the README's error table: `npm run openapi`. */
import fs from 'node:fs';
import path from 'node:path';
import { generateOpenApiYaml, withErrorTable } from '../src/openapi.js';
import { API_TYPES_FILE, generateApiTypes } from './api-types.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const out = path.join(root, 'openapi.yaml');
const yaml = await generateOpenApiYaml();
fs.writeFileSync(out, yaml);
console.log(`wrote ${out}`);
const types = path.join(root, API_TYPES_FILE);
fs.writeFileSync(types, await generateApiTypes(yaml));
console.log(`wrote ${types}`);
const readme = path.join(root, 'README.md');
fs.writeFileSync(readme, withErrorTable(fs.readFileSync(readme, 'utf8')));
console.log(`updated the error table in ${readme}`);
