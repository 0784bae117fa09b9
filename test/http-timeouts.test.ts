/**
 * Slow and greedy clients on a real socket (inject cannot show timeouts or the connection cap):
 * slow headers and slow bodies are dropped within their configured timeouts, idle keep-alive
 * connections are closed, connections past the cap are refused, and others are served meanwhile.
 */
import t from 'tap';
import net from 'node:net';
import pino from 'pino';
import { startServer } from '../src/server.js';
import { loadConfig } from '../src/config/index.js';
import { testConfig } from './helpers/app.js';

const HEADERS_MS = 400;
const REQUEST_MS = 800;
const KEEPALIVE_MS = 300;
const MAX_CONNECTIONS = 12;

interface Held {
  socket: net.Socket;
  /** ms from connect until the server closed it, with what it answered. */
  closed: Promise<{ ms: number; data: string }>;
}

function open(port: number): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      const start = Date.now();
      let data = '';
      socket.on('data', (d) => { data += d.toString('latin1'); });
      socket.on('error', () => {});
      const closed = new Promise<{ ms: number; data: string }>((res) => socket.once('close', () => res({ ms: Date.now() - start, data })));
      resolve({ socket, closed });
    });
  });
}

/** Writes one byte of `text` every `everyMs` until the socket closes. */
function dribble(socket: net.Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) return clearInterval(timer);
    socket.write(text[i++ % text.length]!);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

t.test('config: the header timeout may not exceed the request timeout', async (t) => {
  t.throws(() => loadConfig({ DFG_HEADERS_TIMEOUT_MS: '5000', DFG_REQUEST_TIMEOUT_MS: '1000' }), { code: 'DFG_ERR_CONFIG_INVALID', message: /DFG_HEADERS_TIMEOUT_MS/ });
  const dflt = loadConfig({});
  t.ok(dflt.DFG_HEADERS_TIMEOUT_MS > 0 && dflt.DFG_REQUEST_TIMEOUT_MS > 0 && dflt.DFG_KEEPALIVE_TIMEOUT_MS > 0, 'every timeout is on by default');
});

t.test('slow headers, slow bodies and idle keep-alive are dropped in time; the cap refuses more; others are served', async (t) => {
  const cfg = testConfig({
    PORT: '0',
    DFG_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
    DFG_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
    DFG_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_MS),
    DFG_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
  });
  const server = await startServer(cfg, pino({ level: 'silent' }));
  t.teardown(() => server.close());
  await server.services.whenReady;
  const port = Number(new URL(server.address).port);

  // Slow headers: a header byte every 50 ms never completes the head.
  const slowHeads = await Promise.all(Array.from({ length: 4 }, () => open(port)));
  for (const h of slowHeads) {
    h.socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n');
    dribble(h.socket, 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 50);
  }
  // Slow body: complete headers, then the body a byte every 50 ms.
  const slowBodies = await Promise.all(Array.from({ length: 4 }, () => open(port)));
  for (const h of slowBodies) {
    h.socket.write('POST /v1/attribute HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n');
    dribble(h.socket, 'Content-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n', 50);
  }

  // Meanwhile another client is served at once.
  const t0 = Date.now();
  const live = await fetch(`${server.address}/livez`);
  t.equal(live.status, 200, 'served while slow clients hold sockets');
  t.ok(Date.now() - t0 < 300, `answered in ${Date.now() - t0} ms`);

  // The cap: 8 slow sockets are open; of MAX_CONNECTIONS more, those past the cap are closed at once.
  const fill = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => open(port)));
  await new Promise((r) => setTimeout(r, 200));
  const stillOpen = fill.filter((h) => !h.socket.destroyed && h.socket.readyState === 'open').length;
  t.ok(stillOpen <= MAX_CONNECTIONS - 8, `${stillOpen} of ${MAX_CONNECTIONS} further connections kept (cap ${MAX_CONNECTIONS}, 8 held)`);
  t.ok(stillOpen >= 1, 'connections under the cap are kept');
  for (const h of fill) h.socket.destroy();

  const heads = await Promise.all(slowHeads.map((h) => h.closed));
  for (const r of heads) {
    t.ok(r.ms >= HEADERS_MS - 50 && r.ms < HEADERS_MS + 1000, `slow headers dropped after ${r.ms} ms (timeout ${HEADERS_MS})`);
  }
  t.match(heads[0]!.data, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout');
  const bodies = await Promise.all(slowBodies.map((h) => h.closed));
  for (const r of bodies) {
    t.ok(r.ms >= REQUEST_MS - 50 && r.ms < REQUEST_MS + 1000, `slow body dropped after ${r.ms} ms (timeout ${REQUEST_MS})`);
  }

  // Idle keep-alive: after a served request, the connection is closed after the keep-alive timeout.
  const ka = await open(port);
  ka.socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n');
  const idle = await ka.closed;
  t.match(idle.data, /^HTTP\/1\.1 200/, 'the keep-alive request was served');
  t.ok(idle.ms >= KEEPALIVE_MS - 50 && idle.ms < KEEPALIVE_MS + 1500, `idle keep-alive closed after ${idle.ms} ms (timeout ${KEEPALIVE_MS})`);

  // Every slow socket gone, new clients are served again.
  t.equal((await fetch(`${server.address}/livez`)).status, 200, 'served after the slow clients were dropped');
});
