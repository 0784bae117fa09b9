/**
 * GET /v1/audit: admin only, the key id of each change, paging by cursor, `since` a seq or a time,
 * bounded query values refused with a code; `dfg audit` reads it through the generated client.
 */
import t from 'tap';
import { buildTestApp } from './helpers/app.js';
import { generateKey } from '../src/http/plugins/auth.js';
import { parseSince } from '../src/http/routes/audit.js';
import { auditLine } from '../src/cli/actions/audit.js';
import { registerAuditCommand } from '../src/cli/commands/audit.js';
import { dfgInProcess } from './helpers/cli.js';

t.test('who changed what, paged', async (t) => {
  const admin = generateKey('ops', ['admin']);
  const reg = generateKey('curator', ['register']);
  const { app } = await buildTestApp(t, { keys: [admin.entry, reg.entry] });
  const as = (k: { key: string }) => ({ authorization: `Bearer ${k.key}` });
  const created = await app.inject({ method: 'POST', url: '/v1/algorithms', headers: as(reg), payload: { name: 'Nearest', forgeryType: 'EFS', architecture: 'GAN' } });
  const id = created.json().id as string;
  t.equal((await app.inject({ method: 'PATCH', url: `/v1/algorithms/${id}`, headers: as(admin), payload: { threshold: 0.8, name: 'Nearest x2' } })).statusCode, 200);
  t.equal((await app.inject({ method: 'PATCH', url: `/v1/algorithms/${id}`, headers: as(reg), payload: { enabled: false } })).statusCode, 200);
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/algorithms/${id}`, headers: as(reg) })).statusCode, 204);

  t.equal((await app.inject({ method: 'GET', url: '/v1/audit', headers: as(reg) })).json().code, 'DFG_ERR_AUTH_FORBIDDEN', 'admin scope');
  t.equal((await app.inject({ method: 'GET', url: '/v1/audit' })).json().code, 'DFG_ERR_AUTH_MISSING_KEY');
  const all = await app.inject({ method: 'GET', url: '/v1/audit', headers: as(admin) });
  t.equal(all.statusCode, 200);
  t.same(all.json().items.map((r: { action: string; keyId: string }) => [r.action, r.keyId]), [
    ['algorithm.create', 'curator'], ['algorithm.update', 'ops'], ['algorithm.update', 'curator'], ['algorithm.delete', 'curator'],
  ]);
  t.same(all.json().items[1].detail, { name: 'Nearest x2', changes: { name: ['Nearest', 'Nearest x2'], threshold: [null, 0.8] } });
  t.equal(all.json().nextCursor, null, 'one page holds it all');

  const first = (await app.inject({ method: 'GET', url: '/v1/audit?limit=3', headers: as(admin) })).json();
  t.equal(first.items.length, 3);
  const second = (await app.inject({ method: 'GET', url: `/v1/audit?limit=3&cursor=${first.nextCursor}`, headers: as(admin) })).json();
  t.same(second.items.map((r: { action: string }) => r.action), ['algorithm.delete']);
  t.equal(second.nextCursor, null);
  const seq1 = all.json().items[1].seq;
  t.equal((await app.inject({ method: 'GET', url: `/v1/audit?since=${seq1}`, headers: as(admin) })).json().items.length, 2, 'since a seq: after it');
  const at = all.json().items[0].at as string;
  t.equal((await app.inject({ method: 'GET', url: `/v1/audit?since=${encodeURIComponent(at)}`, headers: as(admin) })).json().items.length, 4, 'since a time: at or after it');
  t.equal((await app.inject({ method: 'GET', url: '/v1/audit?since=2999-01-01', headers: as(admin) })).json().items.length, 0);

  // dfg audit, through the generated client, against the service listening.
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const cli = (...args: string[]) => dfgInProcess(registerAuditCommand, ['audit', '--url', url, ...args]);
  const lines = await cli('--key', admin.key, '--limit', '3', '--all', '--json');
  t.equal(lines.error, null, lines.stderr);
  t.same(lines.stdout.trim().split('\n').map((l) => JSON.parse(l).action), ['algorithm.create', 'algorithm.update', 'algorithm.update', 'algorithm.delete'], 'every page followed');
  const firstPage = await cli('--key', admin.key, '--limit', '3');
  t.equal(firstPage.stdout.trim().split('\n').length, 3);
  t.match(firstPage.stderr, /more: dfg audit --since \d+ \(or --all\)/);
  t.match((await cli('--key', admin.key, '--since', String(seq1))).stdout, /algorithm\.update .*curator|curator .*algorithm\.update/);
  t.match((await cli('--key', reg.key)).error?.message, /DFG_ERR_AUTH_FORBIDDEN/, 'a key without admin scope is refused');
  t.match((await cli('--key', admin.key, '--since', 'soon')).error?.message, /DFG_ERR_REQUEST_INVALID/);

  for (const q of ['since=yesterday', 'since=2026-13-45', 'since=', `since=${'9'.repeat(41)}`, 'since=1e3', 'limit=0', 'limit=1001', 'limit=x', 'cursor=-1', 'cursor=abc', `cursor=${'1'.repeat(16)}`, 'other=1']) {
    const r = await app.inject({ method: 'GET', url: `/v1/audit?${q}`, headers: as(admin) });
    t.match(r.json(), { statusCode: 400, code: 'DFG_ERR_REQUEST_INVALID' }, q);
  }
});

t.test('since: a seq or a time in the store\'s own format', async (t) => {
  t.same(parseSince(undefined), { afterSeq: 0 });
  t.same(parseSince('42'), { afterSeq: 42 });
  t.same(parseSince('2026-12-01'), { afterSeq: 0, since: '2026-12-01T00:00:00.000Z' });
  t.same(parseSince('2026-12-01T10:30:00+02:00'), { afterSeq: 0, since: '2026-12-01T08:30:00.000Z' });
  t.throws(() => parseSince('Mon, 07 Dec 2026'), { code: 'DFG_ERR_REQUEST_INVALID' }, 'only ISO 8601');
  t.throws(() => parseSince('9999999999999999'), { code: 'DFG_ERR_REQUEST_INVALID' }, 'a seq past the bound');
});

t.test('dfg audit prints one line per row', async (t) => {
  const line = auditLine({ seq: 7, at: '2026-12-07T10:00:00.000Z', keyId: null, action: 'algorithm.update', subject: 'alg_x', detail: { name: 'A', changes: { threshold: [null, 0.8] }, context: { job: 'job_1' } } });
  t.equal(line, '     7  2026-12-07T10:00:00.000Z  -             algorithm.update      alg_x  name=A changes={"threshold":[null,0.8]}  ({"job":"job_1"})');
});
