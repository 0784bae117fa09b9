/**
 * The health prober of the overload bench, in a thread of its own: an orchestrator probes from
 * another process, so the probe's time must not include the wait for the load generator's event
 * loop (sixteen closed-loop clients share it). Probes /livez then /readyz every 100 ms for
 * `seconds`, one connection each (kept alive, as a kubelet's HTTP prober does not, but a load
 * balancer's health checker does), and posts the latencies in ms.
 */
import { parentPort, workerData } from 'node:worker_threads';

const { url, seconds } = workerData as { url: string; seconds: number };
const end = performance.now() + seconds * 1000;
const probes: Record<'livez' | 'readyz', number[]> = { livez: [], readyz: [] };
while (performance.now() < end) {
  for (const p of ['livez', 'readyz'] as const) {
    const t0 = performance.now();
    await fetch(`${url}/${p}`).then((r) => r.arrayBuffer()).catch(() => undefined);
    probes[p].push(performance.now() - t0);
  }
  await new Promise((r) => setTimeout(r, 100));
}
parentPort!.postMessage(probes);
