import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RouteDeps } from '../deps.js';
import { GalleryInfo } from '../schemas/attribution.js';
import { errorResponses } from '../schemas/common.js';
import { toGalleryInfo } from '../serialise.js';
import { auditNote } from '../audit-note.js';

const ModelSwitchRequest = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 1200, description: 'The model list to serve, in DFG_MODEL syntax: `residual-v3`, or `a,b:0.5` for a fusion.' }),
    force: Type.Optional(Type.Boolean({
      default: false,
      description: 'Switch even though stored samples lack a vector of a listed model: they are kept but not searched until re-embedded.',
    })),
  },
  { additionalProperties: false },
);

const ModelSwitch = Type.Object({
  switched: Type.Boolean({ description: 'false when the list was already served (nothing reloaded; recorded if the record named another list).' }),
  previous: Type.String({ description: 'The list served before.' }),
  model: Type.String({ description: 'The list served now.' }),
  calibrated: Type.Boolean({ description: 'The new index id has a stored calibration (its own; else DFG_THRESHOLD or the model default threshold applies until POST /v1/calibration).' }),
  loadMs: Type.Integer({ description: 'Checking and loading the new models and index, until they served.' }),
  drainMs: Type.Integer({ description: 'Waiting for requests in flight on the old models, and closing them.' }),
  gallery: GalleryInfo,
});

export async function modelRoutes(untyped: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
  app.put('/v1/model', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'switchModel', tags: ['gallery'],
      summary: 'Switch the served models without a restart (hot switch); GET /v1/gallery shows the current ones',
      description: 'Loads the embedder and the gallery index of the new list beside the serving ones, then new requests use them; ' +
        'requests in flight finish on the old models, which are closed after them. Refused, with the old models still serving, when a model ' +
        'is unknown (404) or unusable (422), when stored samples lack a vector of a listed model (409 DFG_ERR_MODEL_SWITCH_INCOMPLETE: re-embed ' +
        'them first with POST /v1/jobs/reembeddings or `dfg gallery reembed`, or set `force`), and while another switch runs (409). ' +
        'A successful switch is recorded in the gallery store before the answer (also when the list was served already but not recorded): ' +
        'restarts serve it unless DFG_MODEL is set to another list (`gallery.model.configured`; explicit configuration wins) or it can no longer be loaded. ' +
        'Running `dfg worker` processes keep their models until restarted (then they follow the record the same way).',
      body: ModelSwitchRequest,
      response: { 200: ModelSwitch, ...errorResponses(400, 401, 403, 404, 409, 415, 422, 503) },
    },
  }, async (request) => {
    const body = request.body;
    const result = await services.switchModels(body.model, { force: body.force, audit: auditNote(request) });
    request.logFields = { from: result.previous, to: result.model, switched: result.switched, force: body.force ?? false };
    return {
      switched: result.switched,
      previous: result.previous,
      model: result.model,
      calibrated: result.parts.gallery.currentCalibration() !== null,
      loadMs: result.loadMs,
      drainMs: result.drainMs,
      gallery: await toGalleryInfo(result.parts, services.config, services.origin()),
    };
  });
}
