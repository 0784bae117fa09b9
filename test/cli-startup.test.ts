/**
 * `dfg` starts cheaply: registering the commands (help, option parsing) loads none of the heavy
 * packages; a command imports its implementation, and what that needs, only when it runs.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, tempDir } from './helpers/app.js';
import { dfg, type CliResult } from './helpers/cli.js';

/** Packages that cost start-up time (native addons, servers, queues, schema compilers): commands load them when they run. */
const HEAVY = ['onnxruntime-node', 'sharp', 'better-sqlite3', 'hnswlib-node', 'piscina', 'bullmq', 'ioredis', 'fastify', '@sinclair/typebox', 'pino', 'protobufjs', 'cli-progress'];

const packageOf = (url: string) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

/** Runs `dfg args`, and lists the modules it imported: packages by name, ours by path below dist/. */
async function dfgModules(args: string[], env: Record<string, string> = {}): Promise<{ result: CliResult; packages: Set<string>; ours: Set<string> }> {
  const dir = tempDir('dfg-startup-');
  try {
    const log = path.join(dir, 'modules.txt');
    const hook = pathToFileURL(path.join(ROOT, 'dist', 'test', 'helpers', 'module-log.js')).href;
    const result = await dfg(args, { ...env, NODE_OPTIONS: `--import=${hook}`, DFG_MODULE_LOG: log });
    const urls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    const dist = pathToFileURL(path.join(ROOT, 'dist')).href + '/';
    return {
      result,
      packages: new Set(urls.map(packageOf).filter((p): p is string => p !== undefined)),
      ours: new Set(urls.filter((u) => u.startsWith(dist)).map((u) => u.slice(dist.length))),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

t.test('help and option checks load no heavy package', async (t) => {
  for (const args of [['--help'], ['keys', 'create', '--help'], ['jobs', 'enrol', '--help'], ['gallery', 'reembed', '--help'], ['eval', '--help'], ['genome', 'fit', '--help'], ['gallery', 'export', '--help'], ['keys', 'signing', 'create', '--help'], ['demo', '--help'], ['attribute', '-k', '0', 'x.png']]) {
    const { result, packages, ours } = await dfgModules(args);
    t.ok(packages.has('commander'), `${args.join(' ')}: the module log works`);
    t.ok(ours.has('src/cli/commands/core.js'), `${args.join(' ')}: every command registered`);
    t.same(HEAVY.filter((p) => packages.has(p)), [], `dfg ${args.join(' ')}: no heavy package loaded (exit ${result.code})`);
    t.same([...ours].filter((f) => f.startsWith('src/cli/actions/')), [], `dfg ${args.join(' ')}: no action module loaded`);
  }
});

t.test('a command loads its own action module, and only what that needs', async (t) => {
  const { result, packages, ours } = await dfgModules(['keys', 'create', '--id', 'startup']);
  t.equal(result.code, 0, result.out);
  t.same([...ours].filter((f) => f.startsWith('src/cli/actions/')), ['src/cli/actions/keys.js'], 'keys create: its action module alone');
  t.ok(packages.has('@sinclair/typebox'), 'the keys file schema is loaded when the command runs');
  t.same(['onnxruntime-node', 'sharp', 'bullmq', 'fastify'].filter((p) => packages.has(p)), [], 'no model runtime, image decoder, queue or server for a key');

  const signingDir = tempDir('dfg-startup-signing-');
  t.teardown(() => fs.rmSync(signingDir, { recursive: true, force: true }));
  const signing = await dfgModules(['keys', 'signing', 'create', '--id', 'startup', '--out', signingDir]);
  t.equal(signing.result.code, 0, signing.result.out);
  t.same([...signing.ours].filter((f) => f.startsWith('src/cli/actions/')), ['src/cli/actions/signing.js'], 'keys signing create: its action module alone');
  t.same(['onnxruntime-node', 'sharp', 'better-sqlite3', 'bullmq', 'fastify'].filter((p) => signing.packages.has(p)), [], 'no gallery, model runtime or server for a signing key');

  const models = await dfgModules(['models', 'list'], { DFG_MODELS_DIR: path.join(ROOT, 'no-such-models-dir') });
  t.equal(models.result.code, 1, 'models list refuses a missing folder');
  t.match(models.result.stderr, /^DFG_MODELS_DIR .*no-such-models-dir is not a folder\n$/, 'with the same one-line message');
  t.same(['onnxruntime-node', 'sharp', 'bullmq', 'fastify', 'better-sqlite3'].filter((p) => models.packages.has(p)), [], 'listing models opens neither the gallery nor the services');
});

t.test('the local gallery commands load neither the server nor the job queue', async (t) => {
  // Refused for want of a gallery, after their action module and its imports have loaded.
  const dir = tempDir('dfg-startup-gallery-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const image = path.join(dir, 'x.png');
  fs.writeFileSync(image, 'not read');
  const env = { DFG_GALLERY_DIR: path.join(dir, 'no-gallery') };
  for (const args of [['gallery', 'info'], ['attribute', image], ['enrol', 'alg', image], ['calibrate']]) {
    const { result, packages, ours } = await dfgModules(args, env);
    t.match(result.stderr, /^No gallery in /, `${args[0]}: the action ran (exit ${result.code})`);
    t.ok(packages.has('pino'), `${args[0]}: the logger is loaded`);
    t.same(['fastify', 'bullmq', 'ioredis', 'prom-client'].filter((p) => packages.has(p)), [], `${args[0]}: no server, queue or metrics package`);
    t.notOk(ours.has('src/server.js'), `${args[0]}: not the server entry`);
  }
});
