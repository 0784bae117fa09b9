/** The options of `dfg` commands that call the running service (the client that reads them: api.ts). */
import type { Command } from 'commander';

export interface ApiOptions { url?: string; key?: string }

/** Adds --url and --key to a command that calls the service. */
export function withApiOptions(c: Command): Command {
  return c.option('--url <url>', 'service URL (default http://HOST:PORT from the environment)').option('--key <key>', 'API key (default $DFG_API_KEY)');
}
