/** Boundary query values on the list routes: a coded 400, never a 500 from SQLite or Redis. */
import t from 'tap';
import { jobHarness } from './helpers/jobs.js';

const VALUES = ['1e20', '1e300', 'Infinity', '-Infinity', 'NaN', '-1', '1.5', '9007199254740993', '0x10', '', ' ', 'abc', '1e9x'];

t.test('list routes refuse out-of-range limit and offset with DFG_ERR_REQUEST_INVALID', async (t) => {
  const { app } = await jobHarness(t, { name: 'qbounds', worker: false });
  const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'q', forgeryType: 'EFS', architecture: 'GAN' } })).json() as { id: string };
  for (const path of ['/v1/algorithms', `/v1/algorithms/${alg.id}/samples`, '/v1/jobs']) {
    for (const name of ['limit', 'offset']) {
      for (const v of VALUES) {
        const res = await app.inject({ method: 'GET', url: `${path}?${name}=${encodeURIComponent(v)}` });
        t.ok(res.statusCode < 500, `${path}?${name}=${v}: ${res.statusCode}`);
        if (res.statusCode !== 200) t.match(res.json(), { statusCode: 400, code: 'DFG_ERR_REQUEST_INVALID' }, `${path}?${name}=${v} coded`);
      }
    }
    const big = await app.inject({ method: 'GET', url: `${path}?offset=1e20` });
    t.equal(big.statusCode, 400, `${path}?offset=1e20 is refused`);
    const edge = await app.inject({ method: 'GET', url: `${path}?offset=1000000000&limit=500` });
    t.equal(edge.statusCode, 200, `${path}: the largest offset is served (an empty page)`);
    t.same(edge.json().items, [], 'empty page');
  }
});
