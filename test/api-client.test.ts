import t from 'tap';
import { buildTestApp } from './helpers/app.js';
import { generatorImage } from './helpers/images.js';
import { generateKey } from '../src/http/plugins/auth.js';
import { createApiClient, formData, imageFile } from '../src/api-client/index.js';

t.test('the generated client drives register, enrol and attribute against a live service', async (t) => {
  const key = generateKey('client', ['register', 'attribute']);
  const { app } = await buildTestApp(t, { keys: [key.entry], env: { DFG_THRESHOLD: '0.3' } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/`;
  const client = createApiClient({ baseUrl, apiKey: key.key });

  const created = await client.POST('/v1/algorithms', { body: { name: 'nearest-x2', forgeryType: 'EFS', architecture: 'GAN' } });
  t.equal(created.response.status, 201);
  const id = created.data!.id;
  t.match(id, /\S/, 'the new algorithm has an id');

  const other = await client.POST('/v1/algorithms', { body: { name: 'jpeg-q50', forgeryType: 'FE', architecture: 'CNN' } });
  const files = async (family: 'nearest2' | 'jpeg50', seed: number) =>
    Promise.all([0, 1, 2].map(async (k) => imageFile(`${family}-${k}.png`, await generatorImage(family, seed + k, 128))));
  for (const [algorithm, family, seed] of [[id, 'nearest2', 10], [other.data!.id, 'jpeg50', 20]] as const) {
    const enrolled = await client.POST('/v1/algorithms/{id}/samples', {
      params: { path: { id: algorithm } },
      body: { files: await files(family, seed) },
      bodySerializer: formData,
    });
    t.equal(enrolled.response.status, 201, `${family}: samples created`);
    t.equal(enrolled.data!.created, 3);
  }

  const probe = imageFile('probe.png', await generatorImage('nearest2', 99, 128));
  const answer = await client.POST('/v1/attribute', { body: { file: probe }, bodySerializer: formData });
  t.equal(answer.response.status, 200);
  t.equal(answer.data!.decision, 'attributed');
  t.equal(answer.data!.algorithm?.id, id, 'attributed to the algorithm its generator was enrolled under');

  const refused = await createApiClient({ baseUrl }).GET('/v1/algorithms', { params: { query: { limit: 10, offset: 0 } } });
  t.equal(refused.response.status, 401, 'no key: refused');
  t.equal(refused.error?.code, 'DFG_ERR_AUTH_MISSING_KEY', 'the error body is typed and carries the code');
});
