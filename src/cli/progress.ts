import cliProgress from 'cli-progress';

/** A progress bar on stderr (quiet when stderr is not a terminal, except for a final line). */
export function progressBar(label: string, total: number) {
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} {percentage}% | eta {eta_formatted} | {status}`, stream: process.stderr, hideCursor: true, noTTYOutput: false, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { status: '' });
  return {
    tick(n = 1, status = '') { bar.increment(n, { status }); },
    stop() { bar.stop(); },
  };
}
