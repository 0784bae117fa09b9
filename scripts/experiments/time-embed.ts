/**
 * Experiment helper, not a benchmark: decode + crop + embed of one 1024x1024 JPEG in process
 * (one onnxruntime thread, one sharp thread), repeated; prints median and quartiles per model.
 *
 *   node dist/scripts/experiments/time-embed.js [--model residual-v1,residual-v2] [--runs 40]
 */
import sharp from 'sharp';
import { embedInProcess, loadModel } from '../../src/embedding/index.js';
import { seededRandom } from '../../src/math/random.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

async function main(): Promise<void> {
  sharp.concurrency(1);
  const runs = Number(arg('runs', '40'));
  const rnd = seededRandom(7);
  const S = 1024;
  // Smooth gradient plus noise: a photo-like JPEG of realistic size (~200-400 KB).
  const raw = Buffer.alloc(S * S * 3);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) raw[(y * S + x) * 3 + c] = Math.max(0, Math.min(255, Math.round((x + y * (c + 1)) / 12 + 40 * (rnd() - 0.5) + 60)));
  const jpeg = await sharp(raw, { raw: { width: S, height: S, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  for (const modelId of arg('model', 'residual-v1,residual-v2').split(',')) {
    const loaded = await loadModel({ modelsDir: 'models', modelId, limits: { maxPixels: 40_000_000, maxBytes: 25 << 20 }, intraOpThreads: 1 });
    const ms: number[] = [];
    for (let i = 0; i < runs + 5; i++) {
      const t0 = performance.now();
      await embedInProcess(jpeg, loaded);
      if (i >= 5) ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const q = (p: number) => ms[Math.floor(p * (ms.length - 1))]!.toFixed(1);
    console.log(`${modelId}: ${jpeg.length} B JPEG ${S}x${S}, ${runs} runs: p25 ${q(0.25)} ms, p50 ${q(0.5)} ms, p75 ${q(0.75)} ms`);
    await loaded.release();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
