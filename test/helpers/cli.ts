/** Runs the `dfg` CLI: the built one as a child process, or one command's registration in this process. */
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Command, CommanderError } from 'commander';
import { ROOT } from './app.js';

export interface CliResult {
  code: number | null;
  /** stdout and stderr together, in arrival order. */
  out: string;
  stdout: string;
  stderr: string;
}

/** `env` adds to (or, with undefined values, removes from) the parent's environment; `cwd`: the child's working directory. */
export function dfg(args: string[], env: Record<string, string | undefined> = {}, opts: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli', 'index.js'), ...args], { env: { ...process.env, LOG_LEVEL: 'silent', ...env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); stderr += d.toString(); });
    child.on('exit', (code) => resolve({ code, out, stdout, stderr }));
  });
}

/**
 * Parses `args` with the commands that `register` adds to a fresh program, in this process (no
 * child to start: for refusals that happen before any work). Resolves to what the command threw
 * (a CommanderError for a bad option value), or null, and what it printed.
 */
export async function dfgInProcess(register: (program: Command) => void, args: string[]): Promise<{ error: Error | null; stdout: string; stderr: string }> {
  const program = new Command().name('dfg').exitOverride();
  let stdout = '';
  let stderr = '';
  program.configureOutput({ writeOut: (s) => { stdout += s; }, writeErr: (s) => { stderr += s; } });
  register(program);
  // Subcommands copy the settings of their parent when they are created, so set them on every one.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride().configureOutput({ writeOut: (s) => { stdout += s; }, writeErr: (s) => { stderr += s; } });
  const exitCode = process.exitCode;
  const log = console.log;
  const err = console.error;
  console.log = (...a: unknown[]) => { stdout += a.join(' ') + '\n'; };
  console.error = (...a: unknown[]) => { stderr += a.join(' ') + '\n'; };
  try {
    await program.parseAsync(['node', 'dfg', ...args]);
    return { error: null, stdout, stderr };
  } catch (e) {
    return { error: e instanceof CommanderError || e instanceof Error ? e : new Error(String(e)), stdout, stderr };
  } finally {
    console.log = log;
    console.error = err;
    process.exitCode = exitCode;
  }
}
