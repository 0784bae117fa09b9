/**
 * The layer order of src/, checked by `npm run lint:deps` (part of `npm test`). Layers, bottom up:
 *
 *   math/                      shared maths: depends on nothing at all
 *   lib/                       generic helpers (bounded concurrency, durable files): Node only
 *   errors.ts                  the error catalogue
 *   config/                    settings: the TypeBox schema and the parsers of its values
 *   api-client/                the typed client of our HTTP API, generated from openapi.yaml
 *   logger.ts                  the process logger (reads config/)
 *   attribution/  embedding/   pure scoring and decisions; decode, ONNX session, worker pool
 *   gallery/  evaluation/      store and HNSW index; protocols, metrics, reports
 *     gallery/store/           the store: interface (api.ts), SQLite and PostgreSQL backends, blobs
 *     gallery/index/           the HNSW index, derived from the store through store/api.ts only
 *     gallery/*.ts             openGallery (gallery.ts) over both, its options, reads and input checks
 *   calibration/  genome/      gallery calibration runs; the simulated forgery genome
 *   exchange/                  signed gallery bundles: export and import
 *   model-build/               ONNX writer and model definitions (dfg models build)
 *   use-cases/  serving/       attribute, enrol, reembed, feedback (analysts' verdicts) and the
 *                              attribution recorder (answers kept for feedback); the served-model
 *                              lifecycle (services, serving pair, start models, model switch)
 *   jobs/  http/  cli/         adapters: BullMQ, Fastify routes, the dfg command
 *   app.ts, server.ts, ...     entry points
 *
 * Each layer may import only what LAYERS allows it (a DAG), so the folders form no cycle; modules
 * form none either. Native addons each have one owner (see the rules named native-*).
 */
const BASE = ['src/errors\\.ts'];
// The use-case layer: one function per action (use-cases/) and the served-model lifecycle (serving/).
const USE_CASE_DIRS = ['use-cases', 'serving'];
const ENTRIES = ['app', 'server', 'openapi'];

const dir = (name) => `src/${name}/`;
const rootFiles = (names) => `src/(${names.join('|')})\\.ts$`;
const useCases = `src/(${USE_CASE_DIRS.join('|')})/`;

// npm packages resolve into node_modules/; Node built-ins are allowed where `core` is set.
const NPM = 'node_modules/';

/** What each layer may import besides itself (regular expressions over the resolved path). */
const LAYERS = [
  { name: 'math', from: dir('math'), allowed: [dir('math')] },
  { name: 'lib', from: dir('lib'), allowed: [dir('lib')], core: true },
  { name: 'base', from: `^(${BASE.join('|')})$`, allowed: [...BASE, NPM], core: true },
  { name: 'config', from: dir('config'), allowed: [dir('config'), dir('math'), ...BASE, NPM], core: true },
  { name: 'api-client', from: dir('api-client'), allowed: [dir('api-client'), NPM] },
  { name: 'logger', from: '^src/logger\\.ts$', allowed: ['src/logger\\.ts', dir('config'), ...BASE, NPM], core: true },
  // Pure, like math/: no npm package, no Node built-in.
  { name: 'attribution', from: dir('attribution'), allowed: [dir('attribution'), dir('config'), dir('math'), ...BASE] },
  { name: 'embedding', from: dir('embedding'), allowed: [dir('embedding'), dir('lib'), dir('config'), dir('math'), ...BASE, NPM], core: true },
  { name: 'gallery', from: dir('gallery'), allowed: [dir('gallery'), dir('lib'), dir('attribution'), dir('config'), dir('math'), ...BASE, NPM], core: true },
  { name: 'evaluation', from: dir('evaluation'), allowed: [dir('evaluation'), dir('api-client'), dir('lib'), dir('attribution'), dir('embedding'), dir('config'), dir('math'), ...BASE, NPM], core: true },
  { name: 'calibration', from: dir('calibration'), allowed: [dir('calibration'), dir('lib'), dir('gallery'), dir('attribution'), dir('config'), dir('math'), ...BASE, NPM], core: true },
  { name: 'genome', from: dir('genome'), allowed: [dir('genome'), dir('lib'), dir('evaluation'), dir('embedding'), dir('config'), dir('math'), ...BASE, NPM], core: true },
  { name: 'exchange', from: dir('exchange'), allowed: [dir('exchange'), dir('lib'), dir('gallery'), dir('embedding'), dir('attribution'), dir('config'), dir('math'), ...BASE, NPM], core: true },
  { name: 'model-build', from: dir('model-build'), allowed: [dir('model-build'), dir('lib'), dir('genome'), dir('embedding'), dir('config'), dir('math'), ...BASE, NPM], core: true },
];
const CAPABILITIES = ['math', 'lib', 'config', 'api-client', 'attribution', 'embedding', 'gallery', 'evaluation', 'calibration', 'genome', 'exchange', 'model-build'];
const capabilityDirs = `src/(${CAPABILITIES.join('|')})/`;

const anyOf = (patterns) => `^(${patterns.join('|')})`;

module.exports = {
  forbidden: [
    {
      name: 'every-folder-a-layer',
      comment: 'A folder or root file of src/ that no layer names escapes every rule: give it a place in LAYERS (and in the README picture).',
      severity: 'error',
      from: { path: '^src/', pathNot: anyOf([...LAYERS.map((l) => (l.from.startsWith('^') ? l.from.slice(1) : l.from)), useCases, 'src/(http|jobs|cli)/', rootFiles(ENTRIES)]) },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'A module cycle: split the shared part out into the lower of the two modules.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...LAYERS.map((l) => ({
      name: `layer-${l.name}`,
      comment: `${l.name} imports only lower layers (see the picture at the top of .dependency-cruiser.cjs).`,
      severity: 'error',
      from: { path: l.from.startsWith('^') ? l.from : `^${l.from}` },
      to: { pathNot: anyOf(l.allowed), ...(l.core ? { dependencyTypesNot: ['core'] } : {}) },
    })),
    {
      name: 'layer-use-cases',
      comment: 'Use cases and the served-model lifecycle sit below every adapter (http, jobs, cli) and entry point.',
      severity: 'error',
      from: { path: `^${useCases}` },
      to: { path: `^(src/(http|jobs|cli)/|${rootFiles(ENTRIES)})` },
    },
    {
      name: 'layer-jobs',
      comment: 'jobs/ is an adapter beside http/ and cli/: it imports neither, nor an entry point.',
      severity: 'error',
      from: { path: '^src/jobs/' },
      to: { path: `^(src/(http|cli)/|${rootFiles(ENTRIES)})` },
    },
    {
      name: 'layer-http',
      comment: 'http/ never imports the CLI nor an entry point (app.ts builds the app from http/).',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: `^(src/cli/|${rootFiles(ENTRIES)})` },
    },
    {
      name: 'capabilities-not-above',
      comment: 'Capability folders never import use cases, adapters or entry points.',
      severity: 'error',
      from: { path: `^${capabilityDirs}` },
      to: { path: `^(src/(http|jobs|cli)/|${useCases}|${rootFiles(ENTRIES)})` },
    },
    {
      name: 'pure-evaluation-metrics',
      comment: 'Evaluation metrics, protocols and reports-as-data are pure: no npm package, no Node built-in.',
      severity: 'error',
      from: { path: '^src/evaluation/(metrics|aggregate|confusion|evaluate-split|protocol|types)\\.ts$' },
      to: { pathNot: '^src/' },
    },
    {
      name: 'native-onnxruntime',
      comment: 'embedding/onnx-session.ts is the only owner of onnxruntime-node.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/embedding/onnx-session\\.ts$' },
      to: { path: '^node_modules/onnxruntime-node/' },
    },
    {
      name: 'native-hnswlib',
      comment: 'gallery/index/hnsw.ts is the only owner of hnswlib-node.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/gallery/index/hnsw\\.ts$' },
      to: { path: '^node_modules/hnswlib-node/' },
    },
    {
      name: 'native-sharp',
      comment:
        'embedding/decode.ts owns sharp for every input image. Documented exceptions: embedding/render.ts ' +
        '(rasterises evaluation plots, SVG to PNG) and genome/image-io.ts (writes and reads the synthesised genome images).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(embedding/(decode|render)|genome/image-io)\\.ts$' },
      to: { path: '^node_modules/sharp/' },
    },
    {
      name: 'gallery-index-over-store-api',
      comment: 'gallery/index/ reads the store through its interface (gallery/store/api.ts) only, never a backend, nor the gallery above it.',
      severity: 'error',
      from: { path: '^src/gallery/index/' },
      to: { path: '^src/gallery/', pathNot: '^src/gallery/(index/|store/api\\.ts$|types\\.ts$)' },
    },
    {
      name: 'gallery-store-below-index',
      comment: 'gallery/store/ knows neither the HNSW index nor the gallery above it (gallery.ts, validate.ts, ...): only its own files and gallery/types.ts.',
      severity: 'error',
      from: { path: '^src/gallery/store/', pathNot: '^src/gallery/store/blobs\\.ts$' },
      to: { path: '^src/gallery/', pathNot: '^src/gallery/(store/|types\\.ts$)' },
    },
    {
      name: 'gallery-store-blobs',
      comment: 'gallery/store/blobs.ts as the rest of gallery/store/, plus one documented exception: tempPath from gallery/index/snapshot.ts (the temp-file name the start-up sweep recognises).',
      severity: 'error',
      from: { path: '^src/gallery/store/blobs\\.ts$' },
      to: { path: '^src/gallery/', pathNot: '^src/gallery/(store/|types\\.ts$|index/snapshot\\.ts$)' },
    },
    {
      name: 'native-sqlite',
      comment: 'The gallery store (gallery/store/) is the only user of better-sqlite3.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/gallery/store/' },
      to: { path: '^node_modules/better-sqlite3/' },
    },
    {
      name: 'queue-in-jobs',
      comment: 'BullMQ and ioredis are used by jobs/ only.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/jobs/' },
      to: { path: '^node_modules/(bullmq|ioredis)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // A symlinked node_modules (a shared install) still resolves to node_modules/... paths.
    preserveSymlinks: true,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
