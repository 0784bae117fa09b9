/**
 * Writes an evaluation report: `report.json` (the Report object), `report.md` (tables and the
 * metric definitions), and the plots as SVG and PNG.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { topConfusions } from './confusion.js';
import { renderPlots, reportPlots } from './plots.js';
import type { GroupRow, Report, SpaceReport, Stat } from './types.js';

const f3 = (x: number | null) => (x === null ? '—' : x.toFixed(3));
const ms = (s: Stat) => (s.mean === null ? '—' : `${s.mean.toFixed(3)} ± ${(s.std ?? 0).toFixed(3)}`);
/** A table cell: pipes and line breaks in folder names must not break the table. */
const cell = (text: string) => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Metric rows shared by the markdown and the terminal summary. */
export function metricRows(report: Report): { name: string; model: Stat; content?: Stat }[] {
  const c = report.baselines.content;
  const pick = (get: (s: SpaceReport) => Stat, name: string) => ({ name, model: get(report), ...(c ? { content: get(c) } : {}) });
  return [
    pick((s) => s.rank1, 'Rank-1'),
    pick((s) => s.rank5, 'Rank-5'),
    pick((s) => s.mAP, report.mAPBasis === 'algorithms' ? 'mAP (over algorithms)' : 'mAP'),
    pick((s) => s.auroc, 'AUROC'),
    pick((s) => s.oscr, 'OSCR'),
    ...Object.keys(report.dirAtFpir).map((k) => pick((s) => s.dirAtFpir[k], `DIR@FPIR ${k}`)),
    pick((s) => s.macroF1, 'macro-F1'),
    pick((s) => s.knownCorrectAtThreshold, 'known correct @thr'),
    pick((s) => s.unknownRejectedAtThreshold, 'unknown rejected @thr'),
    pick((s) => s.authenticFalselyAttributed, 'authentic → forgery @thr'),
    pick((s) => s.falseAttributionRate, 'false attributions @thr'),
    pick((s) => s.detectionAuroc, 'detection AUROC (authentic vs generated)'),
  ];
}

/** The summary as a fixed-width text table for the terminal. */
export function summaryTable(report: Report): string {
  const rows = metricRows(report);
  const hasContent = rows.some((r) => r.content);
  const head = ['metric', report.model.id, ...(hasContent ? ['content baseline'] : [])];
  const body = rows.map((r) => [r.name, ms(r.model), ...(r.content ? [ms(r.content)] : [])]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function groupTable(title: string, model: Record<string, GroupRow>, content?: Record<string, GroupRow>): string {
  const keys = Object.keys(model).sort();
  return [`## ${title}`, '', table(
    ['group', 'algorithms', 'probes', 'Rank-1', 'mAP', 'unknown probes', 'unknown rejected', ...(content ? ['content Rank-1'] : [])],
    keys.map((k) => {
      const g = model[k];
      return [cell(k), cell(g.algorithms.join(', ')), String(g.probes), f3(g.rank1), f3(g.mAP), String(g.unknownProbes), f3(g.unknownRejected), ...(content ? [f3(content[k]?.rank1 ?? null)] : [])];
    }),
  )].join('\n');
}

export const DEFINITIONS = `## Definitions
- Per-algorithm score of a probe: mean of its best top-m cosine similarities to that algorithm's registration shots (the service's own scoring code, over every shot). Algorithms are ranked by score, then best single similarity, then name.
- Known probes: probes of registered forgery algorithms. Probes of authentic reference classes compete like any other and count in macro-F1 and in "authentic → forgery" (share of them attributed to a forgery algorithm), not in the attribution metrics.
- Rank-k: share of known probes whose algorithm ranks k or better. mAP: mean over known probes of the average precision of all gallery samples ranked by similarity, relevant = same algorithm.
- AUROC: known probes against unknown probes (held-out algorithms), each scored by its best per-algorithm score; ties count one half.
- OSCR: area under CCR(δ) against FPR(δ); CCR = share of known probes ranked correctly first with score ≥ δ, FPR = share of unknown probes with score ≥ δ.
- False attributions @thr: share of generator probes (registered and held out) attributed at the calibrated thresholds to a forgery algorithm that did not make them, the errors a platform acting on \`attributed\` would make.
- Detection AUROC: authentic vs generated (the benchmark's Protocol-1 view), over probes of authentic classes against probes of generators; each probe's score is its best forgery class's score minus its best authentic class's score. Only for datasets with authentic classes.
- DIR@FPIR p: share of known probes ranked correctly first with a score at or above the lowest threshold that accepts at most p of the unknown probes.
- Calibrated decision: thresholds per algorithm from the registration shots alone (leave-one-out genuine scores, impostor scores of every other class; the fraction of impostors accepted is the target FPIR; the global threshold where an algorithm has too few samples), then the service's own decision code: a probe goes to its best algorithm (or authentic class) when the score reaches that algorithm's threshold and beats the runner-up by the margin, else it is unknown. macro-F1 over the registered classes and the unknown class at these decisions.
- Splits: shots and probes of an algorithm never share a source group; authentic classes are always registered; an algorithm with one source group has probes only in repeats that hold it out. Mean ± sample standard deviation over repeats; per-algorithm and per-group figures pool the probes of all repeats.
- Confusion matrices: every probe evaluation of every repeat (known, authentic, held out), its true algorithm against the registered class ranked first and against the decision (unknown included); a held-out algorithm is its own row ("not registered"), which no column answers rightly. The diagonal of a registered row over its probes is its Rank-1 (ranked first) and its "correct @thr" (decided).
- Content baseline: a 16×16 colour thumbnail (area average, mean removed, unit norm) through the same protocol. A model that does not beat it by far is matching content, not generator traces.`;

/** What differs when the protocol ran against a service (`dfg eval --url`): these replace the definitions above where they disagree. */
export const SERVICE_DEFINITIONS = `## Service evaluation
- Every repeat registers its classes in the service as new algorithms, enrols the shots through \`POST /v1/algorithms/{id}/samples\`, attributes every probe through \`POST /v1/attribute/batch\`, and deletes the algorithms. Files the service cannot read are found first (each file attributed once before anything is registered) and left out, so the splits are the ones the library evaluation draws with the same seed.
- Per-algorithm scores are the answers' candidates: the service's k-nearest-sample search (its \`k\`, approximate HNSW) grouped by algorithm, top-m mean. A registered class absent from the candidates scores −1; ranks follow the service's order.
- mAP over algorithms: the API returns no per-sample similarities, so the average precision of a probe is taken over the registered algorithms ranked by score (1 / rank of its algorithm; ties shared); it is not comparable with the library's mAP over samples.
- Decisions (macro-F1, correct / rejected @thr) are the service's own, with its margin and its thresholds: the global threshold of its stored calibration, else its configured threshold (new algorithms have no calibrated threshold of their own).`;

function serviceLines(report: Report): string[] {
  const s = report.service;
  if (!s) return [];
  const d = s.decision;
  const thr = s.thresholdSource === 'calibration' && s.calibration
    ? `calibration v${s.calibration.version} (target FPIR ${s.calibration.targetFpir}, global ${s.calibration.global.toFixed(4)})`
    : `configured threshold ${d.threshold}`;
  return [
    `- Service: \`${cell(s.url)}\` (run ${cell(s.runId)}): decisions with top-m ${d.topM}, k ${d.k}, margin ${d.margin}, thresholds from ${thr}; ${s.candidates} candidates per answer`,
    `- Service answers: ${s.requests} requests, ${s.retries} retried after 503 (check ${s.timings.checkSeconds.toFixed(1)} s, enrolment ${s.timings.enrolSeconds.toFixed(1)} s, attribution ${s.timings.attributeSeconds.toFixed(1)} s, clean-up ${s.timings.cleanupSeconds.toFixed(1)} s); ${s.missingScores.pairs} probe × class score(s) absent from the candidates (counted as −1; own class absent for ${s.missingScores.probes} probe(s)); ${s.foreignBest} answer(s) led by an algorithm this run did not register${s.existingAlgorithms.length > 0 ? ` (${s.existingAlgorithms.length} pre-existing enabled: ${cell(s.existingAlgorithms.join(', '))})` : ''}`,
  ];
}

/** The most frequent rank-1 confusions and false attributions of the model's space, and the heatmap (`pictures`). */
function confusionLines(report: Report, pictures: string[]): string[] {
  if (!report.confusion) return [];
  const top = topConfusions(report.confusion, 10);
  const wrong = topConfusions(report.confusion, 10, 'decisions');
  const name = (c: { algorithm: string; registered: boolean }) => `${cell(c.algorithm)}${c.registered ? '' : ' (not registered)'}`;
  return [
    '## Most frequent confusions',
    '',
    'Probes whose best-scoring registered class is not their own, pooled over repeats (a held-out algorithm has no own class: its row shows what it is nearest to). Full matrices, ranked first and decided, per space: `confusion` in report.json.',
    '',
    top.length === 0
      ? 'None: every probe ranked its own algorithm first.'
      : table(['true algorithm', 'ranked first', 'probes', 'share of its probes'], top.map((c) => [name(c), cell(c.predicted), String(c.count), `${(100 * c.share).toFixed(1)} %`])),
    '',
    '### Most frequent false attributions at the calibrated thresholds',
    '',
    'Probes attributed to an algorithm that is not theirs (a held-out algorithm\'s probes should all be `unknown`): the mistakes a platform would act on.',
    '',
    wrong.length === 0
      ? 'None: every attribution named the right algorithm.'
      : table(['true algorithm', 'attributed to', 'probes', 'share of its probes'], wrong.map((c) => [name(c), cell(c.predicted), String(c.count), `${(100 * c.share).toFixed(1)} %`])),
    '',
    ...pictures.map((f) => `![${f}](${f})`),
    '',
  ];
}

const isConfusionPlot = (file: string) => file.startsWith('confusion.');

/** The report as markdown. */
export function reportMarkdown(report: Report, plotFiles: string[] = []): string {
  const c = report.baselines.content;
  const p = report.protocol;
  const rows = metricRows(report);
  const cRow = (name: string) => c?.perAlgorithm.find((r) => r.name === name);
  const parts = [
    '# Attribution evaluation',
    '',
    `- Dataset: \`${cell(report.dataset.root)}\`: ${report.dataset.algorithms} algorithm folders, ${report.dataset.usable}/${report.dataset.images} images usable${report.dataset.genome ? ', genome.json read' : ', no genome.json'}`,
    `- Model: ${cell(report.model.id)} (version ${cell(report.model.version)}, dim ${report.model.dim})${report.model.members.length > 1 ? `: fusion of ${report.model.members.map((m) => `${cell(m.id)} ×${m.weight}`).join(', ')}` : ''}`,
    `- Protocol: ${p.shots} shots, ${p.unknownList ? `unknown = ${cell(p.unknownList.join(', '))}` : `unknown fraction ${p.unknownFraction}`}, seed ${cell(p.seed)}, ${p.repeats} repeat(s), top-m ${p.topM}, target FPIR ${p.targetFpir ?? '— (service threshold)'}, margin ${p.margin}, similarity ${p.metric ?? 'cosine'}, score normalisation ${p.scoreNorm ?? 'none'}`,
    ...serviceLines(report),
    `- Created ${report.createdAt}; embedding ${report.timings.embedSeconds.toFixed(1)} s, evaluation ${report.timings.evaluateSeconds.toFixed(1)} s`,
    '',
    '## Summary (mean ± std over repeats)',
    '',
    table(['metric', cell(report.model.id), ...(c ? ['content baseline'] : [])], rows.map((r) => [r.name, ms(r.model), ...(r.content ? [ms(r.content)] : [])])),
    '',
    ...plotFiles.filter((f) => !isConfusionPlot(f)).map((f) => `![${f}](${f})`),
    '',
    ...confusionLines(report, plotFiles.filter(isConfusionPlot)),
    '## Per algorithm',
    '',
    table(
      ['algorithm', 'forgery type', 'architecture', 'groups', 'probes', 'Rank-1', 'AP', 'correct @thr', 'held out', 'unknown rejected', ...(c ? ['content Rank-1', 'content AP'] : [])],
      report.perAlgorithm.map((r) => [
        cell(r.name), cell(r.forgeryType), cell(r.architecture), String(p.groups[r.name] ?? '—'), String(r.probes), f3(r.rank1), f3(r.ap), f3(r.correctAtThreshold),
        `${r.repeatsUnknown}/${p.repeats}`, f3(r.unknownRejected), ...(c ? [f3(cRow(r.name)?.rank1 ?? null), f3(cRow(r.name)?.ap ?? null)] : []),
      ]),
    ),
    '',
    groupTable('By forgery type', report.byForgeryType, c?.byForgeryType),
    '',
    groupTable('By architecture', report.byArchitecture, c?.byArchitecture),
    '',
    '## Splits',
    '',
    table(['repeat', 'unknown', 'registered without probes', 'known probes', 'unknown probes'], p.splits.map((s) => [String(s.repeat), cell(s.unknown.join(', ') || '—'), cell(s.galleryOnly.join(', ') || '—'), String(s.knownProbes), String(s.unknownProbes)])),
    '',
    report.service
      ? `Service global threshold ${ms(report.calibration.global)}; registered classes decided with it per repeat ${ms(report.calibration.fallbacks)}.`
      : `Calibrated global threshold ${ms(report.calibration.global)}; algorithms on the global fallback per repeat ${ms(report.calibration.fallbacks)}.`,
  ];
  const listed = (title: string, items: string[]) => (items.length === 0 ? [] : ['', `## ${title}`, '', ...items.map((i) => `- ${cell(i)}`)]);
  parts.push(...listed('Warnings', report.dataset.warnings));
  parts.push(...listed('Unreadable files (left out of every space)', report.dataset.unreadable.map((u) => `${u.file}: ${u.reason}`)));
  parts.push(...listed('Skipped files', report.dataset.skipped.map((s) => `${s.file}: ${s.reason}`)));
  parts.push('', DEFINITIONS, ...(report.service ? ['', SERVICE_DEFINITIONS] : []), '');
  return parts.join('\n');
}

/**
 * Writes report.json, report.md and the plots (SVG always, PNG when a rasteriser is given) into
 * `outDir`; returns the paths written.
 */
export async function writeReport(report: Report, outDir: string, rasterise?: (svg: string) => Promise<Buffer>): Promise<string[]> {
  await fs.mkdir(outDir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, data: string | Uint8Array) => {
    const file = path.join(outDir, name);
    await fs.writeFile(file, data);
    written.push(file);
  };
  const plots: { name: string; svg: string; png?: Buffer }[] = rasterise ? await renderPlots(report, rasterise) : reportPlots(report);
  for (const plot of plots) {
    await put(`${plot.name}.svg`, plot.svg);
    if (plot.png) await put(`${plot.name}.png`, plot.png);
  }
  await put('report.json', `${JSON.stringify(report, null, 2)}\n`);
  await put('report.md', reportMarkdown(report, plots.map((pl) => `${pl.name}.${pl.png ? 'png' : 'svg'}`)));
  return written;
}
