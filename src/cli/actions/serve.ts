/** What `dfg serve` does: the server entry, with Fastify and the job routes behind it, loaded for this command alone. */
import { serveForever } from '../../server.js';

/** `dfg serve`: runs until SIGINT/SIGTERM. */
export async function serve(): Promise<void> {
  await serveForever();
}
