/**
 * Commands registered cheaply, run on demand: `dfg` declares every command (names, options, help)
 * from modules that import little more than commander, and loads a command's implementation, with
 * onnxruntime, sharp, BullMQ or Fastify behind it, only when that command runs. `dfg --help` and
 * `dfg keys create` would otherwise pay about a second of module loading for nothing.
 */

/** A command's implementation as commander calls it: its arguments, then its options. */
type Handler = (...args: never[]) => unknown;

/**
 * An action that imports the module `load` names and calls its export `name` with what commander
 * passes: `.action(lazyAction(() => import('../actions/core.js'), 'enrol'))`.
 */
export function lazyAction<M extends Record<K, Handler>, K extends string>(load: () => Promise<M>, name: K): (...args: Parameters<M[K]>) => Promise<void> {
  return async (...args) => {
    const handler: (...a: Parameters<M[K]>) => unknown = (await load())[name];
    await handler(...args);
  };
}
