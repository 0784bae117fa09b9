import t from 'tap';
import { Value } from '@sinclair/typebox/value';
import { AlgorithmCreate, AlgorithmPatch, SampleParams } from '../src/http/schemas/algorithms.js';
import { ForgeryType, Architecture, IdParam, MAX_LIST_LIMIT, Pagination } from '../src/http/schemas/common.js';
import {
  checkAlgorithmInput, checkAlgorithmPatch, checkId, DEFAULT_PAGE_LIMIT, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_PAGE_LIMIT, MAX_REFERENCE_LENGTH,
  MAX_TEXT_LENGTH, MAX_THRESHOLD, MIN_THRESHOLD,
} from '../src/gallery/validate.js';
import { ARCHITECTURES, FORGERY_TYPES } from '../src/gallery/types.js';

const base = { name: 'alg', forgeryType: 'FS', architecture: 'GAN' } as const;

t.test('the HTTP schema and the store accept and refuse the same field lengths', async (t) => {
  for (const [field, max] of [['name', MAX_NAME_LENGTH], ['description', MAX_TEXT_LENGTH], ['reference', MAX_REFERENCE_LENGTH]] as const) {
    const fits = { ...base, [field]: 'x'.repeat(max) };
    const over = { ...base, [field]: 'x'.repeat(max + 1) };
    t.ok(Value.Check(AlgorithmCreate, fits), `HTTP create takes a ${field} of ${max}`);
    t.notOk(Value.Check(AlgorithmCreate, over), `HTTP create refuses a ${field} of ${max + 1}`);
    t.ok(Value.Check(AlgorithmPatch, { [field]: 'x'.repeat(max) }), `HTTP patch takes a ${field} of ${max}`);
    t.notOk(Value.Check(AlgorithmPatch, { [field]: 'x'.repeat(max + 1) }), `HTTP patch refuses a ${field} of ${max + 1}`);
    t.equal(checkAlgorithmInput(fits)[field].length, max, `the store takes a ${field} of ${max}`);
    t.throws(() => checkAlgorithmInput(over), { code: 'DFG_ERR_REQUEST_INVALID' }, `the store refuses a ${field} of ${max + 1}`);
    t.throws(() => checkAlgorithmPatch({ [field]: 'x'.repeat(max + 1) }), { code: 'DFG_ERR_REQUEST_INVALID' });
  }
});

t.test('the HTTP schema lists the store’s forgery types and architectures', async (t) => {
  for (const v of FORGERY_TYPES) t.ok(Value.Check(ForgeryType, v), v);
  for (const v of ARCHITECTURES) t.ok(Value.Check(Architecture, v), v);
  t.notOk(Value.Check(ForgeryType, 'XX'));
  t.notOk(Value.Check(Architecture, 'XX'));
});

t.test('ids and thresholds: the HTTP schemas and the store take the same range', async (t) => {
  const id = 'x'.repeat(MAX_ID_LENGTH);
  t.ok(Value.Check(IdParam, { id }), `HTTP takes an id of ${MAX_ID_LENGTH}`);
  t.notOk(Value.Check(IdParam, { id: id + 'x' }), `HTTP refuses an id of ${MAX_ID_LENGTH + 1}`);
  t.ok(Value.Check(SampleParams, { id, sampleId: id }));
  t.notOk(Value.Check(SampleParams, { id, sampleId: id + 'x' }));
  t.equal(checkId(id, 'id'), id, `the store takes an id of ${MAX_ID_LENGTH}`);
  t.throws(() => checkId(id + 'x', 'id'), { code: 'DFG_ERR_REQUEST_INVALID' }, `the store refuses an id of ${MAX_ID_LENGTH + 1}`);
  for (const threshold of [MIN_THRESHOLD, MAX_THRESHOLD, null]) {
    t.ok(Value.Check(AlgorithmPatch, { threshold }), `HTTP takes threshold ${threshold}`);
    t.equal(checkAlgorithmPatch({ threshold }).threshold, threshold, `the store takes threshold ${threshold}`);
  }
  for (const threshold of [MIN_THRESHOLD - 0.001, MAX_THRESHOLD + 0.001]) {
    t.notOk(Value.Check(AlgorithmPatch, { threshold }), `HTTP refuses threshold ${threshold}`);
    t.throws(() => checkAlgorithmPatch({ threshold }), { code: 'DFG_ERR_REQUEST_INVALID' }, `the store refuses threshold ${threshold}`);
  }
});

t.test('an HTTP page is the store’s default page when no limit is given, and never over the store’s largest', async (t) => {
  t.equal(Pagination.properties.limit.default, DEFAULT_PAGE_LIMIT);
  t.ok(MAX_LIST_LIMIT <= MAX_PAGE_LIMIT);
});
