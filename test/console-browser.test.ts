/**
 * The analyst's console in a real browser: Debian's chromium driven by playwright-core (never a
 * downloaded browser) against a live service on port 0 with a job worker on a real Redis.
 * register → drop 5 images → attribute a sixth with its evidence thumbnails → disable → `unknown`;
 * an enrolment job followed to completion; a wrong key; axe-core on every page; keys off too.
 * Screenshots of each page go to a temp folder, or to docs/console/ with DFG_CONSOLE_SCREENSHOTS=1.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { buildTestApp, ROOT } from './helpers/app.js';
import { tempDir } from './helpers/gallery.js';
import { generatorImage } from './helpers/images.js';
import { jobHarness, zip } from './helpers/jobs.js';
import { generateKey } from '../src/http/plugins/auth.js';
import { CONSOLE_CSP } from '../src/http/plugins/console.js';

const CHROMIUM = [process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && fs.existsSync(p));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = process.env.DFG_CONSOLE_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'console') : tempDir('dfg-console-shots-'); // removed when the test exits
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface DropFile { name: string; data: Buffer; type: string }

/** Drops files onto a drop zone the way a browser does: a drop event carrying a DataTransfer of Files. */
async function drop(page: Page, testId: string, files: DropFile[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    return dt;
  }, files.map((f) => ({ name: f.name, type: f.type, b64: f.data.toString('base64') })));
  await page.getByTestId(testId).dispatchEvent('drop', { dataTransfer });
}

/** axe-core, injected through the debugging protocol (the page's CSP forbids inline scripts): serious and critical violations. */
async function axe(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } })
      .axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}) at ${v.targets.join(', ')}`);
}

async function check(t: { same: (found: unknown, wanted: unknown, msg: string) => boolean }, page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
  t.same(await axe(page), [], `axe: no serious or critical violations on ${name}`);
}

const png = (name: string, data: Buffer): DropFile => ({ name, data, type: 'image/png' });

if (!CHROMIUM) {
  t.test('console in a real browser', { skip: 'no chromium found: install Debian\'s chromium (apt-get install chromium; .ci/run does) or set PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH' }, async () => {});
} else {
  const { chromium } = await import('playwright-core');
  let browser: Browser;
  t.before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  });
  t.teardown(() => browser?.close());

  t.test('analyst path with keys: wrong key, register, enrol, attribute with evidence, disable, job, calibration', async (t) => {
    const admin = generateKey('console-admin', ['admin']);
    const platform = generateKey('console-platform', ['attribute']);
    const h = await jobHarness(t, { name: 'console', env: { DFG_THRESHOLD: '0.3' }, keys: [admin.entry, platform.entry] });
    const base = await h.app.listen({ port: 0, host: '127.0.0.1' });

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    t.teardown(() => page.close());
    const cspViolations: string[] = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
    page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`));

    const res = await page.goto(`${base}/console/`);
    t.equal(res?.status(), 200);
    t.equal(res?.headers()['content-security-policy'], CONSOLE_CSP, 'strict CSP on the page');

    // No key: the console says so and offers to enter one.
    const keyPanel = page.getByRole('region', { name: 'API key' });
    await keyPanel.getByText('DFG_ERR_AUTH_MISSING_KEY').waitFor();
    await check(t, page, 'key');
    // A wrong key: refused with its code, and the panel asks again.
    await page.getByLabel('Key', { exact: true }).fill('dfg_wrong');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await keyPanel.getByText('DFG_ERR_AUTH_INVALID_KEY').waitFor();
    t.equal(await page.evaluate(() => sessionStorage.getItem('dfg.apiKey')), 'dfg_wrong', 'the key lives in session storage');
    t.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in local storage');
    await page.getByLabel('Key', { exact: true }).fill(admin.key);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByText('No algorithms yet').waitFor();
    t.equal(await keyPanel.count(), 0, 'the key panel closes once the key is accepted');

    // Register through the form (taxonomy as select lists).
    await page.getByLabel('Name', { exact: true }).fill('nearest-x2');
    await page.getByLabel('Forgery type').selectOption('EFS');
    await page.getByLabel('Architecture').selectOption('GAN');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { level: 1, name: 'nearest-x2' }).waitFor();
    const algId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]!);
    t.match(algId, /^alg_/);

    // Drop 5 images: per-file outcomes, then their thumbnails in the samples list.
    const imgs = await Promise.all([1, 2, 3, 4, 5, 6].map((s) => generatorImage('nearest2', 700 + s)));
    await drop(page, 'enrol-drop', imgs.slice(0, 5).map((d, i) => png(`near-${i}.png`, d)));
    await page.getByText('5 created').waitFor();
    t.equal(await page.locator('.outcomes .badge-created').count(), 5, 'one created outcome per file');
    await page.getByRole('heading', { name: 'Samples (5)' }).waitFor();
    await page.locator('ul.thumbs img.thumb').nth(4).waitFor();
    await check(t, page, 'algorithm');

    // Attribute a sixth: decision, score bar, evidence thumbnails beside the upload.
    await page.getByRole('link', { name: 'Attribute' }).click();
    await drop(page, 'attribute-drop', [png('probe.png', imgs[5]!)]);
    await page.locator('[data-decision]').waitFor();
    t.equal(await page.locator('[data-decision]').getAttribute('data-decision'), 'attributed');
    t.equal(await page.locator('.algname').textContent(), 'nearest-x2');
    const evidence = page.locator('[data-testid=evidence] img.thumb[data-sample]');
    await evidence.first().waitFor();
    const widths = await evidence.evaluateAll((els) => els.map((e) => (e as HTMLImageElement).complete ? (e as HTMLImageElement).naturalWidth : -1));
    t.ok(widths.length >= 1 && widths.every((w) => w > 0 && w <= 256), `evidence thumbnails loaded, at most 256 px (${widths.join(', ')})`);
    t.ok(await page.locator('.evidence figure.upload img').isVisible(), 'the upload is shown beside them');
    t.ok(await page.getByRole('img', { name: /against threshold/ }).isVisible(), 'score against the threshold bar');
    await check(t, page, 'attribute');

    // Disable: the same image is now `unknown`.
    await page.goto(`${base}/console/#/algorithms/${algId}`);
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('heading', { level: 1 }).getByText('disabled').waitFor();
    await page.getByRole('link', { name: 'Attribute' }).click();
    await drop(page, 'attribute-drop', [png('probe.png', imgs[5]!)]);
    await page.locator('[data-decision]').waitFor();
    t.equal(await page.locator('[data-decision]').getAttribute('data-decision'), 'unknown', 'a disabled algorithm never matches');
    await page.goto(`${base}/console/#/algorithms/${algId}`);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();

    // A second algorithm enrolled from a dropped zip: an enrolment job with a live progress bar.
    await page.goto(`${base}/console/#/gallery`);
    await page.getByLabel('Name', { exact: true }).fill('bilinear-x4');
    await page.getByLabel('Architecture').selectOption('Diffusion');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { level: 1, name: 'bilinear-x4' }).waitFor();
    const other = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((s) => generatorImage('bilinear4', 800 + s)));
    const archive = zip(other.map((data, i) => ({ name: `set/bil-${i}.png`, data, store: true })));
    await drop(page, 'enrol-drop', [{ name: 'bilinear.zip', data: archive, type: 'application/zip' }]);
    const live = page.locator('.job-live');
    await live.waitFor();
    await page.locator('.job-live[data-state=completed]').waitFor({ timeout: 60_000 });
    t.match(await live.textContent(), /10 created/);
    t.equal(await live.locator('progress').getAttribute('value'), '10');
    const jobId = (await live.getAttribute('data-job'))!;
    await page.getByRole('heading', { name: 'Samples (10)' }).waitFor({ timeout: 10_000 });

    // Jobs: the list follows live; an audit of a dropped batch; its rows filter and download.
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.locator(`tr[data-job="${jobId}"] .badge-completed`).waitFor();
    const probes = await Promise.all([generatorImage('nearest2', 901), generatorImage('nearest2', 902), generatorImage('bilinear4', 903)]);
    await drop(page, 'audit-drop', probes.map((d, i) => png(`probe-${i}.png`, d)));
    await page.locator('.job-live[data-state=completed]').waitFor({ timeout: 60_000 });
    const auditId = (await page.locator('.job-live').getAttribute('data-job'))!;
    await page.locator(`tr[data-job="${auditId}"] .badge-completed`).waitFor();
    await check(t, page, 'jobs');
    await page.locator(`tr[data-job="${auditId}"] a`).click();
    await page.getByText('3 of 3 rows').waitFor();
    await page.getByLabel('Algorithm').selectOption('bilinear-x4');
    await page.getByText('1 of 3 rows').waitFor();
    t.match(await page.locator('table.data tbody tr').first().textContent(), /probe-2\.png.*attributed.*bilinear-x4/, 'filtered to the algorithm');
    await page.getByLabel('Algorithm').selectOption('');
    await page.getByLabel('Name contains').fill('probe-0');
    await page.getByText('1 of 3 rows').waitFor();
    await page.getByLabel('Name contains').fill('');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const csvText = fs.readFileSync((await csv.path())!, 'utf8');
    t.match(csvText, /^name,sha256,decision,algorithm,algorithmId,score,threshold,error,message/, 'CSV download');
    t.equal(csvText.trim().split('\n').length, 4);
    const [nd] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download NDJSON' }).click()]);
    t.equal(fs.readFileSync((await nd.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l).name).join(), 'probe-0.png,probe-1.png,probe-2.png', 'NDJSON download');
    await check(t, page, 'job');

    // Calibration: recalibrate (admin) and see the operating points.
    await page.getByRole('link', { name: 'Calibration' }).click();
    await page.getByLabel('Target FPIR').fill('0.05');
    await page.getByRole('button', { name: 'Recalibrate now' }).click();
    await page.getByText(/Calibration version \d+ made/).waitFor({ timeout: 30_000 });
    await page.locator('.chart .pt').nth(1).waitFor();
    t.equal(await page.locator('.chart .pt').count(), 2, 'one operating point per enabled algorithm');
    await check(t, page, 'calibration');

    // Gallery overview: both algorithms with calibration figures; search and sort.
    await page.getByRole('link', { name: 'Gallery' }).click();
    await page.locator('tr[data-algorithm="bilinear-x4"]').waitFor();
    t.match(await page.locator('tr[data-algorithm="nearest-x2"]').textContent(), /calibrated.*%/, 'threshold from the calibration and leave-one-out rank-1');
    await page.getByRole('button', { name: 'Samples' }).click();
    await page.getByRole('button', { name: 'Samples ▲' }).waitFor();
    t.same(await page.locator('tbody tr[data-algorithm]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-algorithm'))), ['nearest-x2', 'bilinear-x4'], 'sorted by samples');
    await check(t, page, 'gallery');
    await page.getByLabel('Search').fill('diffusion');
    t.same(await page.locator('tbody tr[data-algorithm]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-algorithm'))), ['bilinear-x4'], 'search');

    // Delete with a confirmation that says what goes.
    await page.goto(`${base}/console/#/algorithms/${algId}`);
    await page.getByRole('button', { name: 'Delete…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete nearest-x2?' });
    await dialog.waitFor();
    t.match(await dialog.textContent(), /5 enrolled samples/, 'the confirmation says how many samples go');
    await check(t, page, 'delete', false);
    await dialog.getByRole('button', { name: 'Delete nearest-x2 and 5 samples' }).click();
    await page.locator('tr[data-algorithm="bilinear-x4"]').waitFor();
    t.equal(await page.locator('tr[data-algorithm="nearest-x2"]').count(), 0, 'deleted');
    t.equal((await h.app.inject({ method: 'GET', url: `/v1/algorithms/${algId}`, headers: { authorization: `Bearer ${admin.key}` } })).statusCode, 404);

    // An attribute-only key: what it may read is shown, the rest as its coded error; evidence thumbnails say why they are missing.
    await page.getByRole('button', { name: /^API key/ }).click();
    await page.getByLabel('Key', { exact: true }).fill(platform.key);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByRole('heading', { name: 'Served model and index' }).waitFor();
    await page.getByText('DFG_ERR_AUTH_FORBIDDEN').first().waitFor();
    t.equal(await page.getByRole('button', { name: 'Register' }).count(), 0, 'no register form without the register scope');
    await page.getByRole('link', { name: 'Attribute' }).click();
    await drop(page, 'attribute-drop', [png('probe.png', other[0]!)]);
    await page.locator('[data-decision=attributed]').waitFor();
    await page.getByRole('img', { name: /needs the register scope/ }).first().waitFor();
    t.pass('attribution with an attribute key; evidence placeholders name the scope (the browser cache varies by key)');

    t.same(cspViolations, [], 'no CSP violations or page errors');
  });

  t.test('keys off: the console works without asking for a key; a missing thumbnail is a placeholder', async (t) => {
    const { app } = await buildTestApp(t, { env: { DFG_KEEP_IMAGES: 'false' } });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const alg = (await app.inject({ method: 'POST', url: '/v1/algorithms', payload: { name: 'no-bytes', forgeryType: 'FS', architecture: 'CNN' } })).json() as { id: string };
    const form = new FormData();
    form.append('files', new Blob([new Uint8Array(await generatorImage('jpeg50', 5))]), 'x.png');
    t.equal((await fetch(`${base}/v1/algorithms/${alg.id}/samples`, { method: 'POST', body: form })).status, 201);
    const page = await browser.newPage();
    t.teardown(() => page.close());
    await page.goto(`${base}/console/#/algorithms/${alg.id}`);
    await page.getByRole('heading', { level: 1, name: 'no-bytes' }).waitFor();
    await page.getByRole('img', { name: /image not kept/ }).waitFor();
    t.equal(await page.getByRole('region', { name: 'API key' }).count(), 0, 'no key asked for');
    t.same(await axe(page), [], 'axe on the placeholder page');
    await page.goto(`${base}/console/#/calibration`);
    await page.getByText('DFG_ERR_CALIBRATION_NOT_FOUND').waitFor();
    t.pass('an API error shows its code');
  });
}
