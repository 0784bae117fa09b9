import t from 'tap';
import { buildTestApp } from './helpers/app.js';
import { generateKey, hashKey, isLoopbackHost, createKeyRing } from '../src/http/plugins/auth.js';

t.test('API keys: 401 without or with a wrong key, 403 without the scope, admin has all', async (t) => {
  const attr = generateKey('platform', ['attribute']);
  const reg = generateKey('tns', ['register']);
  const admin = generateKey('ops', ['admin']);
  const { app } = await buildTestApp(t, { keys: [attr.entry, reg.entry, admin.entry] });

  const none = await app.inject({ url: '/v1/algorithms' });
  t.equal(none.statusCode, 401);
  t.equal(none.json().code, 'DFG_ERR_AUTH_MISSING_KEY');
  const wrong = await app.inject({ url: '/v1/algorithms', headers: { authorization: 'Bearer dfg_wrong' } });
  t.equal(wrong.statusCode, 401);
  t.equal(wrong.json().code, 'DFG_ERR_AUTH_INVALID_KEY');
  const forbidden = await app.inject({ url: '/v1/algorithms', headers: { authorization: `Bearer ${attr.key}` } });
  t.equal(forbidden.statusCode, 403);
  t.equal(forbidden.json().code, 'DFG_ERR_AUTH_FORBIDDEN');
  t.equal((await app.inject({ url: '/v1/algorithms', headers: { 'x-api-key': reg.key } })).statusCode, 200);
  t.equal((await app.inject({ url: '/v1/algorithms', headers: { authorization: `bearer ${admin.key}` } })).statusCode, 200);
  t.equal((await app.inject({ url: '/v1/gallery', headers: { authorization: `Bearer ${attr.key}` } })).statusCode, 200);
  t.equal((await app.inject({ url: '/v1/gallery', headers: { authorization: `Bearer ${reg.key}` } })).statusCode, 403);
  t.equal((await app.inject({ url: '/livez' })).statusCode, 200, 'health is public');
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
});

t.test('key helpers', async (t) => {
  t.match(hashKey('abc'), /^sha256:[0-9a-f]{64}$/);
  t.not(hashKey('abc'), hashKey('abd'));
  t.ok(isLoopbackHost('127.0.0.1'));
  t.ok(isLoopbackHost('::1'));
  t.ok(isLoopbackHost('localhost'));
  t.notOk(isLoopbackHost('0.0.0.0'));
  t.notOk(isLoopbackHost('10.0.0.1'));
  t.notOk(createKeyRing([]).enabled);
});
