/**
 * Builds the analyst's console (console/ → dist/console/): one ES module bundle (Preact + htm,
 * minified by esbuild), the stylesheet and index.html. Run by `npm run build`; fails when the
 * first load's JavaScript passes its budget (200 KB compressed).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = path.join(ROOT, 'console');
const OUT = path.join(ROOT, 'dist', 'console');
const BUDGET_GZIP_BYTES = 200 * 1024;

export async function buildConsole(): Promise<{ jsBytes: number; jsGzipBytes: number }> {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  await build({
    entryPoints: [path.join(SRC, 'src', 'main.js')],
    outfile: path.join(OUT, 'app.js'),
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    minify: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  await build({
    entryPoints: [path.join(SRC, 'console.css')],
    outfile: path.join(OUT, 'console.css'),
    bundle: true,
    minify: true,
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'favicon.svg']) fs.copyFileSync(path.join(SRC, f), path.join(OUT, f));
  const js = fs.readFileSync(path.join(OUT, 'app.js'));
  const jsGzipBytes = zlib.gzipSync(js, { level: 9 }).length;
  if (jsGzipBytes > BUDGET_GZIP_BYTES) throw new Error(`console bundle is ${jsGzipBytes} bytes gzipped, over the budget of ${BUDGET_GZIP_BYTES}`);
  return { jsBytes: js.length, jsGzipBytes };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { jsBytes, jsGzipBytes } = await buildConsole();
  console.log(`console: dist/console/app.js ${(jsBytes / 1024).toFixed(1)} KiB, ${(jsGzipBytes / 1024).toFixed(1)} KiB gzipped`);
}
