/** Batch-job sources without Redis or a model: archives, import directories, URLs, CSV cells. */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readArchive, type ArchiveItem, type ArchiveLimits } from '../src/jobs/sources/archive/index.js';
import { checkEntryName } from '../src/jobs/sources/archive/names.js';
import { listImportDir, parseImportRoots, readImportFile, resolveImportDir } from '../src/jobs/sources/directory.js';
import { checkUrl, fetchImage, isPrivateAddress, isTransientFetchError, parseAllowlist, type UrlPolicy } from '../src/jobs/sources/urls.js';
import { csvCell } from '../src/jobs/results.js';
import { tempDir } from './helpers/app.js';
import { tarball, zip } from './helpers/jobs.js';

const LIMITS: ArchiveLimits = { maxEntries: 100, maxTotalBytes: 64 * 1024 * 1024, maxRatio: 100, maxEntryBytes: 1024 * 1024 };
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);

async function readAll(buf: Buffer, limits = LIMITS): Promise<ArchiveItem[]> {
  const file = path.join(tempDir('dfg-arch-'), 'upload');
  fs.writeFileSync(file, buf);
  const out: ArchiveItem[] = [];
  for await (const item of readArchive(file, limits)) out.push(item);
  return out;
}

async function refused(t: { rejects: typeof import("tap").t.rejects }, buf: Buffer, pattern: RegExp, limits = LIMITS) {
  await t.rejects(readAll(buf, limits), { code: 'DFG_ERR_ARCHIVE_INVALID', statusCode: 400, message: pattern });
}

t.test('zip: images read, non-images reported, symlinks and directories ignored', async (t) => {
  const items = await readAll(zip([
    { name: 'a/one.png', data: PNG },
    { name: 'a/', data: Buffer.alloc(0) },
    { name: 'two.JPG', data: PNG, store: true },
    { name: 'notes.txt', data: Buffer.from('hello') },
    { name: '__MACOSX/a/._one.png', data: Buffer.from('resource fork') },
    { name: 'link.png', data: Buffer.from('/etc/passwd'), mode: 0o120777 },
    { name: 'empty.png', data: Buffer.alloc(0) },
    { name: 'huge.png', data: Buffer.alloc(2 * 1024 * 1024, 1), store: true },
  ]));
  t.same(items.map((i) => i.name), ['a/one.png', 'two.JPG', 'notes.txt', '__MACOSX/a/._one.png', 'empty.png', 'huge.png']);
  t.same(items[0]!.bytes, PNG);
  t.same(items[1]!.bytes, PNG);
  t.equal(items[2]!.error?.code, 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT');
  t.equal(items[3]!.error?.code, 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT');
  t.equal(items[4]!.error?.code, 'DFG_ERR_IMAGE_EMPTY');
  t.equal(items[5]!.error?.code, 'DFG_ERR_IMAGE_TOO_LARGE');
  t.notOk(items[5]!.bytes, 'an oversized entry is never inflated');
});

t.test('tar and tar.gz: same rules', async (t) => {
  for (const gz of [false, true]) {
    const items = await readAll(await tarball([
      { name: 'd', type: 'directory' },
      { name: 'd/x.png', data: PNG },
      { name: 'd/evil.png', type: 'symlink', linkname: '/etc/shadow' },
      { name: 'd/readme.md', data: Buffer.from('# hi') },
    ], gz));
    t.same(items.map((i) => [i.name, i.error?.code ?? 'ok']), [['d/x.png', 'ok'], ['d/readme.md', 'DFG_ERR_IMAGE_UNSUPPORTED_FORMAT']], gz ? 'tar.gz' : 'tar');
    t.same(items[0]!.bytes, PNG);
  }
});

t.test('traversal, absolute and NUL entry names refuse the archive', async (t) => {
  t.same(checkEntryName('a/./b\\c.png'), { name: 'a/b/c.png' });
  t.match(checkEntryName('a/../../etc/x.png'), { refused: /traversal/ });
  t.match(checkEntryName('/etc/x.png'), { refused: /absolute/ });
  t.match(checkEntryName('C:\\x.png'), { refused: /absolute/ });
  t.match(checkEntryName('a\0.png'), { refused: /NUL/ });
  await refused(t, zip([{ name: 'ok.png', data: PNG }, { name: '../../evil.png', data: PNG }]), /traversal/);
  await refused(t, zip([{ name: '..\\..\\evil.png', data: PNG }]), /traversal/);
  await refused(t, zip([{ name: '/abs.png', data: PNG }]), /traversal|absolute/);
  await refused(t, await tarball([{ name: 'ok.png', data: PNG }, { name: '../evil.png', data: PNG }]), /traversal/);
  await refused(t, await tarball([{ name: '../evil.png', data: PNG }], true), /traversal/);
});

t.test('bombs: compression ratio, total size, entry count', async (t) => {
  const zeros = Buffer.alloc(20 * 1024 * 1024);
  await refused(t, zip([{ name: 'bomb.png', data: zeros }]), /ratio/);
  await refused(t, await tarball([{ name: 'bomb.png', data: zeros }], true), /ratio/);
  await refused(t, zip([{ name: 'a.png', data: PNG }, { name: 'b.png', data: PNG }]), /bytes uncompressed/, { ...LIMITS, maxTotalBytes: 300 });
  await refused(t, await tarball([{ name: 'a.png', data: PNG }, { name: 'b.png', data: PNG }]), /bytes uncompressed/, { ...LIMITS, maxTotalBytes: 300 });
  await refused(t, zip([{ name: 'a.png', data: PNG }, { name: 'b.png', data: PNG }, { name: 'c.png', data: PNG }]), /entries/, { ...LIMITS, maxEntries: 2 });
  await refused(t, await tarball([{ name: 'a.png', data: PNG }, { name: 'b.png', data: PNG }, { name: 'c.png', data: PNG }]), /entries/, { ...LIMITS, maxEntries: 2 });
});

t.test('corrupt and unknown archives', async (t) => {
  await refused(t, Buffer.from('definitely not an archive'), /not a zip, tar or tar.gz/);
  await refused(t, Buffer.alloc(0), /empty/);
  const good = zip([{ name: 'a.png', data: PNG }]);
  await refused(t, good.subarray(0, good.length - 30), /corrupt zip/);
  await refused(t, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(100, 3)]), /corrupt tar/);
  const lying = zip([{ name: 'a.png', data: Buffer.alloc(5000, 9) }]);
  lying.writeUInt32LE(100, lying.length - 22 - 46 - 5 + 24); // central directory: uncompressed size 100
  await refused(t, lying, /corrupt zip|declared|size/);
});

t.test('import directories: only below the roots, real paths, no symlinks', async (t) => {
  const root = tempDir('dfg-root-');
  const outside = tempDir('dfg-outside-');
  fs.mkdirSync(path.join(root, 'set/sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'set/b.png'), PNG);
  fs.writeFileSync(path.join(root, 'set/sub/a.png'), PNG);
  fs.writeFileSync(path.join(root, 'set/notes.txt'), 'x');
  fs.writeFileSync(path.join(outside, 'secret.png'), PNG);
  fs.symlinkSync(path.join(outside, 'secret.png'), path.join(root, 'set/link.png'));
  fs.symlinkSync(outside, path.join(root, 'escape'));
  const roots = parseImportRoots(`${root}:/nonexistent-root`);

  const dir = await resolveImportDir(path.join(root, 'set'), roots);
  t.same(await listImportDir(dir, 100), { images: ['b.png', 'sub/a.png'], others: ['notes.txt'] });
  t.same(await readImportFile(dir, 'sub/a.png', roots, 1024), PNG);
  await t.rejects(readImportFile(dir, 'link.png', roots, 1024), { code: 'DFG_ERR_IMPORT_PATH_FORBIDDEN' });
  await t.rejects(readImportFile(dir, '../set/b.png', roots, 1024), { code: 'DFG_ERR_IMPORT_PATH_FORBIDDEN' });
  await t.rejects(readImportFile(dir, 'b.png', roots, 10), { code: 'DFG_ERR_IMAGE_TOO_LARGE' });
  await t.rejects(readImportFile(dir, 'b.png', [outside], 1024), { code: 'DFG_ERR_IMPORT_PATH_FORBIDDEN' }, 'the worker checks its own roots');

  await t.rejects(resolveImportDir(outside, roots), { code: 'DFG_ERR_IMPORT_PATH_FORBIDDEN', statusCode: 403 });
  await t.rejects(resolveImportDir(path.join(root, 'set/../../'), roots), { code: 'DFG_ERR_IMPORT_PATH_FORBIDDEN' });
  await t.rejects(resolveImportDir(path.join(root, 'escape'), roots), { code: 'DFG_ERR_IMPORT_PATH_FORBIDDEN' }, 'symlink out of the root');
  await t.rejects(resolveImportDir('/etc', []), { code: 'DFG_ERR_IMPORT_PATH_FORBIDDEN', message: /DFG_IMPORT_ROOTS/ });
  await t.rejects(resolveImportDir('relative/dir', roots), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(resolveImportDir(path.join(root, 'missing'), roots), { code: 'DFG_ERR_REQUEST_INVALID' });
  await t.rejects(listImportDir(dir, 2), { code: 'DFG_ERR_REQUEST_INVALID', message: /DFG_JOB_MAX_ITEMS/ });
});

t.test('URL policy: allowlist, schemes, credentials, private addresses', async (t) => {
  const allow = parseAllowlist('images.example.com, *.cdn.example.org  127.0.0.1:8080,[::1]');
  t.same(allow[0], { host: 'images.example.com', port: undefined, wildcard: false });
  t.same(allow[1], { host: 'cdn.example.org', port: undefined, wildcard: true });
  t.same(allow[2], { host: '127.0.0.1', port: '8080', wildcard: false });
  const policy = { allowlist: allow, allowPrivate: false };
  t.equal(checkUrl('https://images.example.com/a.png', policy).hostname, 'images.example.com');
  t.equal(checkUrl('https://x.cdn.example.org/a.png', policy).hostname, 'x.cdn.example.org');
  t.throws(() => checkUrl('https://cdn.example.org/a.png', policy), { code: 'DFG_ERR_URL_FORBIDDEN' }, 'wildcard excludes the apex');
  t.throws(() => checkUrl('https://evil.com/a.png', policy), { code: 'DFG_ERR_URL_FORBIDDEN', statusCode: 403, message: /DFG_URL_ALLOWLIST/ });
  t.throws(() => checkUrl('https://images.example.com.evil.com/a.png', policy), { code: 'DFG_ERR_URL_FORBIDDEN' });
  t.throws(() => checkUrl('file:///etc/passwd', policy), { code: 'DFG_ERR_URL_FORBIDDEN' });
  t.throws(() => checkUrl('https://u:p@images.example.com/a.png', policy), { code: 'DFG_ERR_URL_FORBIDDEN', message: /credentials/ });
  t.throws(() => checkUrl('not a url', policy), { code: 'DFG_ERR_REQUEST_INVALID' });
  t.throws(() => checkUrl('http://127.0.0.1:8080/a.png', policy), { code: 'DFG_ERR_URL_FORBIDDEN', message: /private/ });
  t.throws(() => checkUrl('http://127.0.0.1:9090/a.png', { ...policy, allowPrivate: true }), { code: 'DFG_ERR_URL_FORBIDDEN' }, 'port-scoped rule');
  t.equal(checkUrl('http://127.0.0.1:8080/a.png', { ...policy, allowPrivate: true }).port, '8080');
  t.throws(() => checkUrl('http://images.example.com/a.png', { allowlist: [], allowPrivate: false }), { message: /no hosts are allowed/ });
  for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe']) {
    t.ok(isPrivateAddress(ip), `${ip} is private`);
  }
  for (const ip of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) t.notOk(isPrivateAddress(ip), `${ip} is public`);
});

t.test('URL fetch: size and time limits, redirects stay on the host, DNS answers are checked', async (t) => {
  const server = http.createServer((req, res) => {
    if (req.url === '/img.png') return res.end(PNG);
    if (req.url === '/big.png') return res.end(Buffer.alloc(5000));
    if (req.url === '/chunked-big.png') { res.write(Buffer.alloc(3000)); res.write(Buffer.alloc(3000)); return res.end(); }
    if (req.url === '/empty.png') return res.end();
    if (req.url === '/same-host') { res.writeHead(302, { location: '/img.png' }); return res.end(); }
    if (req.url === '/other-host') { res.writeHead(302, { location: `http://localhost:${port}/img.png` }); return res.end(); }
    if (req.url === '/loop') { res.writeHead(302, { location: '/loop' }); return res.end(); }
    if (req.url === '/slow.png') { setTimeout(() => res.end(PNG), 2000); return; }
    if (req.url === '/busy.png') { res.writeHead(503); return res.end(); }
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  const base = `http://127.0.0.1:${port}`;
  const policy: UrlPolicy = { allowlist: parseAllowlist(`127.0.0.1,localhost`), allowPrivate: true, timeoutMs: 500, maxBytes: 4096, maxRedirects: 3 };

  t.same(await fetchImage(`${base}/img.png`, policy), PNG);
  t.same(await fetchImage(`${base}/same-host`, policy), PNG, 'redirect on the same host is followed');
  await t.rejects(fetchImage(`${base}/other-host`, policy), { code: 'DFG_ERR_URL_FORBIDDEN', message: /another host/ });
  await t.rejects(fetchImage(`${base}/loop`, policy), { code: 'DFG_ERR_URL_FETCH_FAILED', message: /redirects/ });
  await t.rejects(fetchImage(`${base}/big.png`, policy), { code: 'DFG_ERR_IMAGE_TOO_LARGE' });
  await t.rejects(fetchImage(`${base}/chunked-big.png`, policy), { code: 'DFG_ERR_IMAGE_TOO_LARGE' });
  await t.rejects(fetchImage(`${base}/empty.png`, policy), { code: 'DFG_ERR_IMAGE_EMPTY' });
  const notFound = await fetchImage(`${base}/missing.png`, policy).catch((e: unknown) => e);
  t.match(notFound, { code: 'DFG_ERR_URL_FETCH_FAILED', message: /HTTP 404/ });
  t.notOk(isTransientFetchError(notFound), 'a 404 is final');
  const unavailable = await fetchImage(`${base}/busy.png`, policy).catch((e: unknown) => e);
  t.match(unavailable, { code: 'DFG_ERR_URL_FETCH_FAILED', message: /HTTP 503/ });
  t.ok(isTransientFetchError(unavailable), 'a 503 is worth a retry');
  const slow = await fetchImage(`${base}/slow.png`, policy).catch((e: unknown) => e);
  t.match(slow, { code: 'DFG_ERR_URL_FETCH_FAILED', message: /timed out/ });
  t.ok(isTransientFetchError(slow), 'a timeout is worth a retry');
  // A host name that resolves to loopback is refused at connect time when private addresses are not allowed.
  await t.rejects(fetchImage(`http://localhost:${port}/img.png`, { ...policy, allowPrivate: false }), { code: 'DFG_ERR_URL_FORBIDDEN', message: /resolves to private address/ });
  await t.rejects(fetchImage(`http://127.0.0.1:1/img.png`, policy), { code: 'DFG_ERR_URL_FETCH_FAILED', message: /ECONNREFUSED/ });
});

t.test('CSV cells: quoting and formula neutralising', async (t) => {
  t.equal(csvCell('plain.png'), 'plain.png');
  t.equal(csvCell('a,b.png'), '"a,b.png"');
  t.equal(csvCell('say "hi".png'), '"say ""hi"".png"');
  t.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  t.equal(csvCell('@SUM(A1)'), `'@SUM(A1)`);
  t.equal(csvCell(-0.25), '-0.25', 'numbers are not touched');
  t.equal(csvCell(null), '');
});
