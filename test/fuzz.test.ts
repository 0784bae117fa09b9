/**
 * A short seeded hostile-input run (scripts/fuzz.ts) against a live `dfg serve`: 0 5xx beyond 503
 * shedding, every 4xx coded, 0 hung requests, no crash, no gallery change beyond what accepted
 * requests reported, bounded RSS. `npm run fuzz -- --requests 10000` is the full run.
 */
import t from 'tap';
import { runFuzz } from '../scripts/fuzz.js';

t.test('2,000 seeded hostile requests: no 5xx, no uncoded 4xx, no hang, no crash, no unintended write', async (t) => {
  const report = await runFuzz({ requests: 2000, seed: 20261207, concurrency: 8, maxRssBytes: 1024 * 1024 * 1024 });
  t.equal(report.requests, 2000, 'every request was sent');
  t.same(report.serverErrors, [], '0 5xx (503 shedding aside)');
  t.same(report.uncoded, [], 'every 4xx carries a DFG_ERR_ code');
  t.equal(report.hung, 0, '0 hung requests');
  t.equal(report.crashed, false, 'the service is still running');
  t.equal(report.unintendedWrites, 0, `gallery as the accepted requests reported: ${JSON.stringify(report.gallery)}`);
  t.ok(report.gallery.expectedSamples > 0, 'some mutated images were still valid and enrolled (the check is not vacuous)');
  t.ok(report.rssPeakBytes <= report.maxRssBytes, `server RSS peak ${Math.round(report.rssPeakBytes / 2 ** 20)} MB`);
  for (const kind of ['image-png', 'image-jpeg', 'image-webp', 'image-gif', 'image-tiff', 'image-avif', 'bomb', 'json', 'query', 'slow-client']) {
    t.ok((report.byKind[kind] ?? 0) > 0, `${kind} inputs were sent`);
  }
});
