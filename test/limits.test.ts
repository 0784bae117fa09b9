import t from 'tap';
import { Value } from '@sinclair/typebox/value';
import { AlgorithmCreate, AlgorithmPatch } from '../src/http/schemas/algorithms.js';
import { ForgeryType, Architecture } from '../src/http/schemas/common.js';
import { checkAlgorithmInput, checkAlgorithmPatch, MAX_NAME_LENGTH, MAX_REFERENCE_LENGTH, MAX_TEXT_LENGTH } from '../src/gallery/validate.js';
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
