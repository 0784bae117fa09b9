/**
 * The report's plots, written by hand as SVG strings (no plotting dependency): ROC known vs
 * unknown, CMC, per-algorithm Rank-1 bars, the confusion heatmap. PNG comes from a rasteriser
 * passed in, so this module stays free of native code.
 */
import type { Report, SpaceReport } from './types.js';

export interface Plot {
  /** File name without extension: roc, cmc, per-algorithm, confusion. */
  name: string;
  svg: string;
}

const MODEL_COLOUR = '#1f5fbf';
const BASELINE_COLOUR = '#d9822b';
const W = 640;
const H = 480;
const M = { left: 64, right: 24, top: 48, bottom: 56 };

/** XML-escapes text (algorithm names come from folder names). */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const num = (x: number) => (Math.round(x * 100) / 100).toString();
const fmt = (s: { mean: number | null; std: number | null }) => (s.mean === null ? 'n/a' : `${s.mean.toFixed(3)} ± ${(s.std ?? 0).toFixed(3)}`);

function frame(title: string, body: string, width = W, height = H): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="28" font-size="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    body,
    '</svg>',
  ].join('\n');
}

interface Series {
  label: string;
  colour: string;
  points: [number, number][];
  dashed?: boolean;
  opacity?: number;
  markers?: boolean;
}

/** A line chart on [x0, x1] × [0, 1] with grid, ticks, axis labels and a legend. */
function lineChart(opts: { title: string; xLabel: string; yLabel: string; x0: number; x1: number; xTicks: number[]; series: Series[]; legend: { label: string; colour: string; dashed?: boolean }[]; diagonal?: boolean; note?: string }): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + ((x - opts.x0) / (opts.x1 - opts.x0 || 1)) * pw;
  const sy = (y: number) => M.top + (1 - y) * ph;
  const out: string[] = [];
  for (let i = 0; i <= 5; i += 1) {
    const y = i / 5;
    out.push(`<line x1="${M.left}" y1="${num(sy(y))}" x2="${M.left + pw}" y2="${num(sy(y))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${num(sy(y) + 4)}" font-size="11" text-anchor="end">${y.toFixed(1)}</text>`);
  }
  for (const x of opts.xTicks) {
    out.push(`<line x1="${num(sx(x))}" y1="${M.top}" x2="${num(sx(x))}" y2="${M.top + ph}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${num(sx(x))}" y="${M.top + ph + 18}" font-size="11" text-anchor="middle">${num(x)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  if (opts.diagonal) out.push(`<line x1="${num(sx(opts.x0))}" y1="${num(sy(0))}" x2="${num(sx(opts.x1))}" y2="${num(sy(1))}" stroke="#999" stroke-dasharray="4 4"/>`);
  for (const s of opts.series) {
    if (s.points.length === 0) continue;
    const d = s.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${num(sx(x))},${num(sy(y))}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2" stroke-opacity="${s.opacity ?? 1}"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    if (s.markers) for (const [x, y] of s.points) out.push(`<circle cx="${num(sx(x))}" cy="${num(sy(y))}" r="3" fill="${s.colour}"/>`);
  }
  out.push(`<text x="${M.left + pw / 2}" y="${H - 14}" font-size="13" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  out.push(`<text x="16" y="${M.top + ph / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 16 ${M.top + ph / 2})">${esc(opts.yLabel)}</text>`);
  opts.legend.forEach((l, i) => {
    const y = M.top + ph - 16 - (opts.legend.length - 1 - i) * 20;
    const x = M.left + pw - 300;
    out.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 24}" y2="${y - 4}" stroke="${l.colour}" stroke-width="2"${l.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${x + 30}" y="${y}" font-size="12">${esc(l.label)}</text>`);
  });
  if (opts.note) out.push(`<text x="${M.left + pw / 2}" y="${M.top + ph / 2}" font-size="14" text-anchor="middle" fill="#777">${esc(opts.note)}</text>`);
  return frame(opts.title, out.join('\n'));
}

type Spaces = { label: string; colour: string; dashed: boolean; space: SpaceReport }[];

function spacesOf(report: Report): Spaces {
  const s: Spaces = [{ label: report.model.id, colour: MODEL_COLOUR, dashed: false, space: report }];
  if (report.baselines.content) s.push({ label: 'content baseline', colour: BASELINE_COLOUR, dashed: true, space: report.baselines.content });
  return s;
}

/** Known-vs-unknown ROC, one thin curve per repeat and space. */
export function rocSvg(report: Report): string {
  const spaces = spacesOf(report);
  const series = spaces.flatMap((s) => s.space.curves.roc.map((c) => ({ label: s.label, colour: s.colour, dashed: s.dashed, opacity: 0.55, points: c.points })));
  return lineChart({
    title: 'Known vs unknown (best per-algorithm score)',
    xLabel: 'false positive rate (unknown probes accepted)',
    yLabel: 'true positive rate (known probes accepted)',
    x0: 0,
    x1: 1,
    xTicks: [0, 0.2, 0.4, 0.6, 0.8, 1],
    series,
    legend: spaces.map((s) => ({ label: `${s.label}: AUROC ${fmt(s.space.auroc)}`, colour: s.colour, dashed: s.dashed })),
    diagonal: true,
    note: series.every((s) => s.points.length === 0) ? 'no unknown probes: ROC undefined' : undefined,
  });
}

/** CMC: identification rate at rank k, mean over repeats. */
export function cmcSvg(report: Report): string {
  const spaces = spacesOf(report);
  const k = Math.max(1, ...spaces.map((s) => s.space.curves.cmc.length));
  const points = (s: SpaceReport) => s.curves.cmc.flatMap((y, i) => (y === null ? [] : [[i + 1, y] as [number, number]]));
  const step = Math.max(1, Math.ceil(k / 10));
  return lineChart({
    title: 'Cumulative match characteristic (known probes)',
    xLabel: 'rank k',
    yLabel: 'share of probes with the true algorithm in the top k',
    x0: 1,
    x1: Math.max(2, k),
    xTicks: Array.from({ length: Math.ceil(k / step) }, (_, i) => 1 + i * step),
    series: spaces.map((s) => ({ label: s.label, colour: s.colour, dashed: s.dashed, markers: true, points: points(s.space) })),
    legend: spaces.map((s) => ({ label: `${s.label}: Rank-1 ${fmt(s.space.rank1)}`, colour: s.colour, dashed: s.dashed })),
    note: spaces.every((s) => points(s.space).length === 0) ? 'no known probes' : undefined,
  });
}

/** Per-algorithm Rank-1 (pooled over repeats), model and content baseline side by side. */
export function perAlgorithmSvg(report: Report): string {
  const spaces = spacesOf(report);
  const rows = report.perAlgorithm;
  const rowH = 14 * spaces.length + 10;
  const left = 200;
  const right = 70;
  const top = 64;
  const height = top + rows.length * rowH + 40;
  const bw = W - left - right;
  const out: string[] = [];
  spaces.forEach((s, i) => {
    out.push(`<rect x="${left + i * 200}" y="40" width="14" height="10" fill="${s.colour}"/>`);
    out.push(`<text x="${left + i * 200 + 20}" y="49" font-size="12">${esc(s.label)}</text>`);
  });
  for (let t = 0; t <= 5; t += 1) {
    const x = left + (t / 5) * bw;
    out.push(`<line x1="${num(x)}" y1="${top - 4}" x2="${num(x)}" y2="${height - 36}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${num(x)}" y="${height - 20}" font-size="11" text-anchor="middle">${(t / 5).toFixed(1)}</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${left - 8}" y="${y + rowH / 2 + 2}" font-size="12" text-anchor="end">${esc(r.name)}${r.authentic ? ' (authentic)' : ''}</text>`);
    spaces.forEach((s, j) => {
      const row = s.space.perAlgorithm.find((p) => p.name === r.name);
      const v = row?.rank1 ?? null;
      const by = y + 4 + j * 14;
      if (v === null) {
        if (j === 0) out.push(`<text x="${left + 4}" y="${by + 10}" font-size="10" fill="#777">no probes (held out ${row?.repeatsUnknown ?? 0}×)</text>`);
      } else {
        out.push(`<rect x="${left}" y="${by}" width="${num(v * bw)}" height="12" fill="${s.colour}"/>`);
        out.push(`<text x="${num(left + v * bw + 4)}" y="${by + 10}" font-size="10">${v.toFixed(2)}</text>`);
      }
    });
  });
  out.push(`<text x="${left + bw / 2}" y="${height - 4}" font-size="12" text-anchor="middle">Rank-1 of the algorithm's probes, pooled over repeats</text>`);
  return frame('Per-algorithm Rank-1', out.join('\n'), W, height);
}

/** A label cut in the middle to `max` characters (variants differ at the end); before escaping, so no entity is cut. */
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, Math.ceil(max / 2) - 1)}…${text.slice(text.length - Math.floor(max / 2))}` : text);

/**
 * The decisions of the model's space as a heatmap: rows true algorithm (registered, then held
 * out under "not registered"), columns the decision (registered classes, then unknown), cells
 * shaded by their share of the row, with the percentage from 5 %.
 */
export function confusionSvg(report: Report): string {
  const { rows, columns, decisions } = report.confusion;
  const authentic = new Set(report.perAlgorithm.filter((r) => r.authentic).map((r) => r.name));
  const family = new Map(report.perAlgorithm.map((r) => [r.name, r.family]));
  const rowLabel = (name: string) => clip(name, 32) + (authentic.has(name) ? ' (authentic)' : '');
  const colLabels = [...columns.map((c) => clip(c, 28)), 'unknown'];
  const cs = Math.max(14, Math.min(32, Math.floor(720 / colLabels.length)));
  const left = 16 + Math.min(260, Math.max(90, 6.5 * Math.max(0, ...rows.map((r) => rowLabel(r.algorithm).length))));
  const top = 56 + Math.min(170, Math.max(40, 5.4 * Math.max(...colLabels.map((c) => c.length))));
  const gap = 6; // before the unknown column
  const head = 18; // a group's header row
  const held = rows.findIndex((r) => !r.registered);
  const yOf = (i: number) => top + head + i * cs + (held >= 0 && i >= held ? head : 0);
  const xOf = (j: number) => left + j * cs + (j === columns.length ? gap : 0);
  const gridRight = xOf(columns.length) + cs;
  const width = Math.max(W, gridRight + 110);
  const height = yOf(rows.length) + 58;
  const key = (registered: boolean, algorithm: string, predicted: string | null) => JSON.stringify([registered, algorithm, predicted]);
  const count = new Map(decisions.map((c) => [key(c.registered, c.algorithm, c.predicted), c.count]));
  const font = Math.max(7, Math.min(11, Math.round(cs * 0.34)));
  const out: string[] = [];
  const frames: string[] = [];
  colLabels.forEach((c, j) => {
    const x = num(xOf(j) + cs / 2 + 4);
    out.push(`<text x="${x}" y="${top - 4}" font-size="11" transform="rotate(-55 ${x} ${top - 4})">${esc(c)}</text>`);
  });
  const header = (y: number, text: string) => out.push(`<text x="${left}" y="${y + 13}" font-size="12" font-weight="bold" fill="#555">${esc(text)}</text>`);
  if (rows.length === 0) out.push(`<text x="${left}" y="${top + 40}" font-size="14" fill="#777">no probes</text>`);
  rows.forEach((r, i) => {
    const y = yOf(i);
    if (i === 0 && r.registered) header(top, 'registered');
    if (i === held) {
      if (i > 0) out.push(`<line x1="16" y1="${y - head - 1}" x2="${gridRight}" y2="${y - head - 1}" stroke="#333" stroke-width="2"/>`);
      header(y - head, 'not registered (held out): the right answer is unknown');
    }
    out.push(`<text x="${left - 6}" y="${num(y + cs / 2 + 4)}" font-size="11" text-anchor="end">${esc(rowLabel(r.algorithm))}</text>`);
    colLabels.forEach((_, j) => {
      const predicted = j < columns.length ? columns[j] : null;
      const n = count.get(key(r.registered, r.algorithm, predicted)) ?? 0;
      const share = r.probes > 0 ? n / r.probes : 0;
      const right = r.registered ? predicted === r.algorithm : predicted === null;
      out.push(`<rect x="${xOf(j)}" y="${y}" width="${cs}" height="${cs}" fill="${MODEL_COLOUR}" fill-opacity="${num(share)}" stroke="#e5e5e5"/>`);
      // Framed after the row's cells, so no neighbour's grid line covers it.
      if (right) frames.push(`<rect x="${xOf(j)}" y="${y}" width="${cs}" height="${cs}" fill="none" stroke="#333" stroke-width="1.5"/>`);
      if (share >= 0.05) out.push(`<text x="${num(xOf(j) + cs / 2)}" y="${num(y + cs / 2 + font / 3)}" font-size="${font}" text-anchor="middle" fill="${share > 0.55 ? '#ffffff' : '#222222'}">${Math.round(share * 100)}${cs >= 28 ? '%' : ''}</text>`);
    });
    out.push(`<text x="${gridRight + 6}" y="${num(y + cs / 2 + 4)}" font-size="10" fill="#555">${r.probes}</text>`);
    // Thin lines between genome families, so confusions inside one family show as blocks.
    if (i > 0 && i !== held && family.get(r.algorithm) !== family.get(rows[i - 1].algorithm)) frames.push(`<line x1="${left}" y1="${y}" x2="${xOf(columns.length) - gap}" y2="${y}" stroke="#888"/>`);
  });
  columns.forEach((c, j) => {
    if (j > 0 && family.has(c) && family.has(columns[j - 1]) && family.get(c) !== family.get(columns[j - 1]) && rows.length > 0) frames.push(`<line x1="${xOf(j)}" y1="${top + head}" x2="${xOf(j)}" y2="${yOf(rows.length)}" stroke="#888"/>`);
  });
  out.push(`<text x="${gridRight + 6}" y="${top + 13}" font-size="10" fill="#555">probes</text>`);
  out.push(...frames);
  out.push(`<text x="16" y="${height - 30}" font-size="12">rows: true algorithm, pooled over repeats; columns: decision; framed: the right one</text>`);
  out.push(`<text x="16" y="${height - 12}" font-size="12">shade and numbers: % of the row's probes (printed from 5 %)</text>`);
  return frame(report.service ? 'Confusion: true algorithm × service decision' : 'Confusion: true algorithm × decision at the calibrated thresholds', out.join('\n'), width, height);
}

/** The plots as SVG. */
export function reportPlots(report: Report): Plot[] {
  return [
    { name: 'roc', svg: rocSvg(report) },
    { name: 'cmc', svg: cmcSvg(report) },
    { name: 'per-algorithm', svg: perAlgorithmSvg(report) },
    ...(report.confusion ? [{ name: 'confusion', svg: confusionSvg(report) }] : []),
  ];
}

/** The plots rasterised to PNG by `rasterise` (e.g. `svgToPng` of src/embedding/render.ts). */
export async function renderPlots(report: Report, rasterise: (svg: string) => Promise<Buffer>): Promise<(Plot & { png: Buffer })[]> {
  const plots = reportPlots(report);
  return Promise.all(plots.map(async (p) => ({ ...p, png: await rasterise(p.svg) })));
}
