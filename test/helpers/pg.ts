/**
 * A throw-away PostgreSQL database per test: created on the server of DFG_TEST_PG_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres, trust auth; `.ci/run` starts one when none
 * answers), named DFG_TEST_PG_PREFIX (default dfgtest) + pid + random, dropped in teardown.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ADMIN_URL = process.env.DFG_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of database `name` on the admin URL's server. */
export function databaseUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`no PostgreSQL answers at ${ADMIN_URL} (set DFG_TEST_PG_URL, or run .ci/run, which starts one): ${(err as Error).message}`, { cause: err });
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates an empty database for this test and drops it (closing its connections) when the test ends. */
export async function testDatabase(t: { teardown(fn: () => Promise<void> | void): void }, prefix = process.env.DFG_TEST_PG_PREFIX ?? 'dfgtest'): Promise<string> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  t.teardown(() => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined));
  return databaseUrl(name);
}
