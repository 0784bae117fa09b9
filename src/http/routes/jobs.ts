import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { RouteDeps } from '../deps.js';
import { errorResponses, IdParam, Pagination } from '../schemas/common.js';
import { AuditJobForm, AuditJobJson, EnrolJobForm, EnrolJobJson, Job, JobAccepted, JobList, ReembedJobJson, ResultsQuery, jobBody, type JobBodyRoute } from '../schemas/jobs.js';
import { loadManifest } from '../../embedding/index.js';
import { formatRows, JobClient, type JobKind, type JobView } from '../../jobs/index.js';
import { dfgError, invalid, isDfgError } from '../../errors.js';
import { MAX_FILENAME_LENGTH } from '../../gallery/validate.js';

interface Upload {
  file: string;
  name: string;
  fields: Record<string, string>;
  cleanup(): Promise<void>;
}

/** Streams the `archive` part of a multipart request to a temporary file (bounded), keeping text fields. */
async function receiveArchive(request: FastifyRequest, maxBytes: number): Promise<Upload> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dfg-upload-'));
  const cleanup = () => fs.rm(dir, { recursive: true, force: true });
  try {
    const fields: Record<string, string> = {};
    let file: string | undefined;
    let name = 'archive';
    for await (const part of request.parts({ limits: { files: 1, fileSize: maxBytes, fields: 10, parts: 12 } })) {
      if (part.type === 'field') {
        if (typeof part.value === 'string') fields[part.fieldname] = part.value.slice(0, 1000);
        continue;
      }
      if (part.fieldname !== 'archive') {
        part.file.resume();
        throw invalid('the archive in the file field "archive"', 'a multipart file field', part.fieldname);
      }
      name = (part.filename || 'archive').slice(0, MAX_FILENAME_LENGTH);
      file = path.join(dir, 'upload');
      await pipeline(part.file, (await fs.open(file, 'wx', 0o600)).createWriteStream());
      if (part.file.truncated) throw dfgError('DFG_ERR_UPLOAD_FILE_TOO_LARGE', JSON.stringify(name), maxBytes);
    }
    if (!file) throw dfgError('DFG_ERR_UPLOAD_NO_FILE');
    return { file, name, fields, cleanup };
  } catch (err) {
    await cleanup();
    const code = (err as { code?: unknown }).code;
    if (isDfgError(err) || (typeof code === 'string' && code.startsWith('FST_'))) throw err;
    // Anything else thrown while reading the body is the body's fault (busboy parse errors carry no code).
    throw dfgError('DFG_ERR_UPLOAD_MALFORMED', (err as Error).message?.split('\n')[0]?.slice(0, 200) ?? 'unreadable body');
  }
}

function accepted(view: JobView) {
  return { jobId: view.id, kind: view.kind, state: view.state, total: view.progress.total, location: `/v1/jobs/${view.id}` };
}

export async function jobRoutes(untyped: FastifyInstance, { services, keyRing }: RouteDeps): Promise<void> {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  const cfg = services.config;
  const client = new JobClient(cfg, app.log as unknown as Logger);
  app.addHook('onClose', async () => client.close());

  /**
   * Job routes admit keys with attribute or register scope; each job is then readable by the scope
   * that submits its kind: audits by attribute, enrolments and re-embeddings by register.
   */
  const mayRead = (request: FastifyRequest, kind: JobKind, strict: boolean): boolean => {
    const need = kind === 'audit' ? 'attribute' : kind === 'import' ? 'admin' : 'register';
    if (strict) {
      keyRing.check(request, need);
      return true;
    }
    try {
      keyRing.check(request, need);
      return true;
    } catch {
      return false;
    }
  };

  const submitJson = (request: FastifyRequest, kind: JobKind, algorithmId: string | undefined, source: Static<typeof EnrolJobJson>['source']) =>
    source.type === 'directory'
      ? client.submitDirectory({ kind, algorithmId, path: source.path, keyId: request.apiKeyId })
      : client.submitUrls({ kind, algorithmId, urls: source.urls, keyId: request.apiKeyId });

  const submitUpload = async (request: FastifyRequest, kind: JobKind) => {
    const upload = await receiveArchive(request, cfg.DFG_JOB_ARCHIVE_MAX_BYTES);
    try {
      const algorithmId = kind === 'enrol' ? upload.fields.algorithmId : undefined;
      if (kind === 'enrol') {
        if (!algorithmId) throw invalid('an algorithm id', 'the multipart field "algorithmId"', algorithmId);
        await services.need().gallery.getAlgorithm(algorithmId);
      }
      return await client.submitArchive({ kind, algorithmId, file: upload.file, name: upload.name, keyId: request.apiKeyId });
    } finally {
      await upload.cleanup();
    }
  };

  // Multipart bodies are streamed by the handler; an empty object satisfies the form schema.
  const multipartBody = async (request: FastifyRequest) => {
    if (request.isMultipart()) request.body = {};
  };

  app.post<JobBodyRoute<typeof EnrolJobJson>>('/v1/jobs/enrolments', {
    config: { scope: 'register' },
    preValidation: multipartBody,
    schema: {
      operationId: 'createEnrolmentJob', tags: ['jobs'], summary: 'Enrol a batch of images (archive, import directory or URLs) as a background job',
      description: 'Multipart with a text field `algorithmId` and a file field `archive` (zip, tar, tar.gz), or JSON with a `directory` or `urls` source. ' +
        'Answers 202 once the images are validated and queued; `dfg worker` processes embed them. Re-running a chunk never enrols an image twice.',
      body: jobBody(EnrolJobJson, EnrolJobForm),
      response: { 202: JobAccepted, ...errorResponses(400, 401, 403, 404, 413, 415, 503) },
    },
  }, async (request, reply) => {
    await client.available();
    let view: JobView;
    if (request.isMultipart()) view = await submitUpload(request, 'enrol');
    else {
      const { algorithmId, source } = request.body;
      await services.need().gallery.getAlgorithm(algorithmId);
      view = await submitJson(request, 'enrol', algorithmId, source);
    }
    return reply.status(202).header('location', `/v1/jobs/${view.id}`).send(accepted(view));
  });

  app.post<JobBodyRoute<typeof AuditJobJson>>('/v1/jobs/audits', {
    config: { scope: 'attribute' },
    preValidation: multipartBody,
    schema: {
      operationId: 'createAuditJob', tags: ['jobs'], summary: 'Attribute a batch of images as a background job',
      description: 'Same sources as enrolment jobs, without an algorithm. Every image is attributed as /v1/attribute would; ' +
        'download the rows from /v1/jobs/{id}/results.',
      body: jobBody(AuditJobJson, AuditJobForm),
      response: { 202: JobAccepted, ...errorResponses(400, 401, 403, 413, 415, 503) },
    },
  }, async (request, reply) => {
    await client.available();
    const view = request.isMultipart()
      ? await submitUpload(request, 'audit')
      : await submitJson(request, 'audit', undefined, request.body.source);
    return reply.status(202).header('location', `/v1/jobs/${view.id}`).send(accepted(view));
  });

  app.post('/v1/jobs/reembeddings', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'createReembedJob', tags: ['jobs'], summary: 'Re-embed the gallery for a model, from the kept image bytes, as a background job',
      description: 'Every sample lacking a vector of `modelId` is queued; `dfg worker` processes embed its kept image with that model and add the vector ' +
        'to the same sample. The service keeps serving with its models meanwhile; switch to a list naming the model (PUT /v1/model) to use the vectors. Samples whose ' +
        'bytes are not kept are reported as `not-kept` (DFG_ERR_SAMPLE_NOT_REEMBEDDABLE).',
      body: ReembedJobJson,
      response: { 202: JobAccepted, ...errorResponses(400, 401, 403, 404, 409, 500, 503) },
    },
  }, async (request, reply) => {
    const { modelId } = request.body;
    await client.available();
    await loadManifest(cfg.DFG_MODELS_DIR, modelId);
    // The gallery is read while the chunks are submitted: held, so a model switch meanwhile leaves it open.
    const view = await services.use(async ({ gallery }) => {
      const sampleIds: string[] = [];
      for (let page = await gallery.samplesMissing(modelId, 0, 1000); page.length > 0; page = await gallery.samplesMissing(modelId, page[page.length - 1]!.seq, 1000)) {
        for (const s of page) sampleIds.push(s.id);
      }
      return client.submitReembed({ modelId, sampleIds, keyId: request.apiKeyId });
    });
    request.log.info({ jobId: view.id, modelId, samples: view.progress.total }, 're-embedding queued');
    return reply.status(202).header('location', `/v1/jobs/${view.id}`).send(accepted(view));
  });

  app.get('/v1/jobs', {
    config: { scope: 'attribute', orScope: 'register' },
    schema: {
      operationId: 'listJobs', tags: ['jobs'], summary: 'Recent jobs, newest first',
      description: 'Keys with the attribute or register scope: audit jobs are listed for the attribute scope, enrolment and re-embedding jobs for the register scope.',
      querystring: Pagination,
      response: { 200: JobList, ...errorResponses(400, 401, 403, 503) },
    },
  }, async (request) => {
    const q = request.query;
    const page = await client.list(q.limit, q.offset);
    const seeEnrol = mayRead(request, 'enrol', false);
    const seeAudit = mayRead(request, 'audit', false);
    const seeImport = mayRead(request, 'import', false);
    return { items: page.items.filter((j) => (j.kind === 'audit' ? seeAudit : j.kind === 'import' ? seeImport : seeEnrol)), total: page.total, limit: q.limit, offset: q.offset };
  });

  app.get('/v1/jobs/:id', {
    config: { scope: 'attribute', orScope: 'register' },
    schema: {
      operationId: 'getJob', tags: ['jobs'], summary: 'State, progress, counts, timings and item errors of a job',
      params: IdParam,
      response: { 200: Job, ...errorResponses(401, 403, 404, 503) },
    },
  }, async (request) => {
    const view = await client.get(request.params.id);
    mayRead(request, view.kind, true);
    return view;
  });

  app.delete('/v1/jobs/:id', {
    config: { scope: 'attribute', orScope: 'register' },
    schema: {
      operationId: 'cancelJob', tags: ['jobs'], summary: 'Cancel a waiting or running job',
      description: 'Queued chunks are dropped; chunks already running finish and are recorded. A finished job is returned unchanged.',
      params: IdParam,
      response: { 200: Job, ...errorResponses(401, 403, 404, 503) },
    },
  }, async (request) => {
    const id = request.params.id;
    mayRead(request, (await client.get(id, { errorLimit: 0 })).kind, true);
    return client.cancel(id);
  });

  // Untyped: the rows stream out unserialised, so the reply is not the declared string type.
  untyped.get<{ Params: Static<typeof IdParam>; Querystring: Static<typeof ResultsQuery> }>('/v1/jobs/:id/results', {
    config: { scope: 'attribute', orScope: 'register' },
    schema: {
      operationId: 'getJobResults', tags: ['jobs'], summary: 'Per-image results as NDJSON (default) or CSV',
      description: 'One row per image in submission order, for the chunks finished so far (the `x-job-state` header says whether more will come). ' +
        'Audits: name, sha256, decision, algorithm, algorithmId, score, threshold, error, message. Enrolments: name, sha256, outcome, sampleId, error, message.',
      params: IdParam,
      querystring: ResultsQuery,
      produces: ['application/x-ndjson', 'text/csv'],
      response: { 200: Type.String({ description: 'NDJSON lines or CSV with a header row' }), ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    const id = request.params.id;
    const { format } = request.query;
    const res = await client.results(id);
    mayRead(request, res.kind, true);
    reply.header('x-job-state', res.state);
    if (format === 'csv') reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${id}.csv"`);
    else reply.type('application/x-ndjson');
    return reply.send(Readable.from(formatRows(res.kind, format, res.rows)));
  });
}
