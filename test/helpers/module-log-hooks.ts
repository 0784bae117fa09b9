/** The loader hook of module-log.ts (module hooks run in a thread of their own, hence a file). */
import fs from 'node:fs';
import type { LoadHook } from 'node:module';

const file = process.env.DFG_MODULE_LOG;

export const load: LoadHook = async (url, context, next) => {
  if (file) fs.appendFileSync(file, `${url}\n`);
  return next(url, context);
};
