/** DFG_INFERENCE_NICE: the inference worker threads run at a lower priority, the event loop keeps its own. */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEmbedder } from '../src/embedding/index.js';
import { jpeg } from './helpers/images.js';
import { ROOT } from './helpers/app.js';

/** Nice value of each thread of this process, by thread id (Linux /proc; field 19 of stat). */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

t.test('inference threads reniced, the main thread not', { skip: process.platform !== 'linux' && 'per-thread nice values are Linux only' }, async (t) => {
  const base = os.getPriority();
  const by = Math.min(7, 19 - base);
  const before = new Set(threadNices().keys());
  const embedder = await createEmbedder({ modelsDir: path.join(ROOT, 'models'), modelId: 'residual-v3', threads: 2, nice: by, maxQueue: 8, limits: { maxBytes: 1 << 24, maxPixels: 1 << 24 } });
  t.teardown(() => embedder.close());
  await embedder.embed(await jpeg(64, 64, 1));
  const nices = threadNices();
  const reniced = [...nices].filter(([tid, n]) => !before.has(tid) && n === base + by);
  t.ok(reniced.length >= 2, `both inference threads at nice ${base + by} (threads: ${JSON.stringify([...nices.values()])})`);
  t.equal(nices.get(process.pid), base, 'the main thread keeps its priority');
  t.equal(os.getPriority(), base);
});
