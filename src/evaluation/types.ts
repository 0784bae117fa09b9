/**
 * Shape of `report.json` written by `dfg eval`. Undefined metrics (no unknown probes, no
 * probe for an algorithm, ...) are `null`.
 */

/**
 * Target false-positive identification rate of `dfg eval` when --target-fpir is not given
 * (applied by the action: with --url, a given one is refused).
 */
export const DEFAULT_TARGET_FPIR = 0.01;

/** Mean and sample standard deviation over the protocol repeats. */
export interface Stat {
  mean: number | null;
  std: number | null;
}

export interface MetricSet {
  rank1: Stat;
  rank5: Stat;
  mAP: Stat;
  auroc: Stat;
  oscr: Stat;
  /** Keyed by FPIR: "0.01", "0.001". */
  dirAtFpir: Record<string, Stat>;
  /** Unknown as a class, decisions at the calibrated thresholds. */
  macroF1: Stat;
  knownCorrectAtThreshold: Stat;
  unknownRejectedAtThreshold: Stat;
  /** Share of probes of authentic reference classes attributed to a forgery algorithm. */
  authenticFalselyAttributed: Stat;
  /** Share of generator probes attributed to an algorithm that did not make them. */
  falseAttributionRate: Stat;
  /** Authentic vs generated AUROC (datasets with authentic classes). */
  detectionAuroc: Stat;
}

export interface AlgorithmRow {
  name: string;
  forgeryType: string;
  architecture: string;
  family: string;
  authentic: boolean;
  /** Known-probe evaluations, pooled over the repeats that registered it. */
  probes: number;
  /** Share of those probes ranked first (null without probes). */
  rank1: number | null;
  /** Mean average precision of those probes. */
  ap: number | null;
  /** Share of those probes attributed to it at the calibrated threshold. */
  correctAtThreshold: number | null;
  repeatsKnown: number;
  repeatsUnknown: number;
  /** Probe evaluations while held out as unknown, pooled over repeats. */
  unknownProbes: number;
  /** Share of those answered unknown at the calibrated thresholds. */
  unknownRejected: number | null;
}

export interface GroupRow {
  algorithms: string[];
  probes: number;
  rank1: number | null;
  mAP: number | null;
  unknownProbes: number;
  unknownRejected: number | null;
}

export interface Curves {
  /** Known-vs-unknown ROC of each repeat, as [fpr, tpr] points. */
  roc: { repeat: number; auroc: number | null; points: [number, number][] }[];
  /** CMC, mean over repeats: cmc[k - 1] = Rank-k. */
  cmc: (number | null)[];
}

/** A true class of the confusion matrices: one algorithm's probes while registered, or while held out. */
export interface ConfusionRow {
  algorithm: string;
  /** false: probes taken while the algorithm was held out (not registered), so no column is right for them. */
  registered: boolean;
  /** Probe evaluations pooled over repeats: the row total of both matrices. */
  probes: number;
}

/** One non-zero cell: how many probes of a row (`algorithm` + `registered`) went to `predicted`. */
export interface ConfusionCell {
  algorithm: string;
  registered: boolean;
  /** A column, or null: `unknown` in `decisions`; no algorithm ranked at all in `rank1` (a service answer without candidates). */
  predicted: string | null;
  count: number;
}

/**
 * Where attribution errs, pooled over the repeats. Every probe counts once per repeat: known
 * probes, authentic reference probes and probes of held-out algorithms (a held-out algorithm's
 * row shows which registered class it was nearest to / taken for). Sparse: zero cells are left
 * out; cells are sorted in row order, then column order, the null column last. The cells of a
 * row sum to its `probes`.
 */
export interface Confusion {
  /** Registered rows first, then held-out ones; each part by genome family, then as in perAlgorithm. */
  rows: ConfusionRow[];
  /**
   * Classes registered in any repeat, by family like the rows; then, sorted, any other label a
   * probe went to (a service's own algorithm, `service/<name>`).
   */
  columns: string[];
  /** Columns = the registered class ranked first (best per-algorithm score). The diagonal over a registered row's probes is its Rank-1. */
  rank1: ConfusionCell[];
  /** Columns = the decision at the calibrated thresholds (a service evaluation: the service's decision); null = unknown. */
  decisions: ConfusionCell[];
}

export interface SpaceReport extends MetricSet {
  /**
   * What mAP ranks: `samples`, every gallery sample by similarity (the library); `algorithms`,
   * the registered algorithms by score (a service evaluation: the HTTP API returns per-algorithm
   * scores, not per-sample similarities), where the AP of one probe is 1 / rank of its algorithm.
   */
  mAPBasis: 'samples' | 'algorithms';
  perAlgorithm: AlgorithmRow[];
  byForgeryType: Record<string, GroupRow>;
  byArchitecture: Record<string, GroupRow>;
  /** Calibrated thresholds over repeats: global, and how many algorithms fell back to it. */
  calibration: { global: Stat; fallbacks: Stat };
  curves: Curves;
  confusion: Confusion;
}

export interface ModelInfo {
  /** One id, or several joined with "+" for a fusion. */
  id: string;
  version: string;
  dim: number;
  /** Fusion members with their weights (one entry for a single model). */
  members: { id: string; version: string; dim: number; weight: number }[];
}

export interface SplitSummary {
  repeat: number;
  known: string[];
  unknown: string[];
  galleryOnly: string[];
  excluded: { algorithm: string; reason: string }[];
  knownProbes: number;
  unknownProbes: number;
}

export interface Report extends SpaceReport {
  version: 1;
  createdAt: string;
  dataset: {
    root: string;
    genome: boolean;
    algorithms: number;
    images: number;
    usable: number;
    unreadable: { file: string; reason: string }[];
    skipped: { file: string; reason: string }[];
    warnings: string[];
  };
  model: ModelInfo;
  protocol: {
    /** Registered classes and held-out algorithms of the first repeat (see `splits` for all). */
    known: string[];
    unknown: string[];
    shots: number;
    seed: string;
    repeats: number;
    unknownFraction: number | null;
    unknownList: string[] | null;
    groupPattern: string;
    /** Source groups per algorithm. */
    groups: Record<string, number>;
    topM: number;
    /** FPIR the decision thresholds were calibrated for; null when a service decided with its configured threshold. */
    targetFpir: number | null;
    margin: number;
    /** Similarity of the model's space: `cosine`, or `wccn:<shrinkage>` (gallery-adapted whitening fitted on each split's shots). Absent: cosine. */
    metric?: string;
    /** Score normalisation: `none`, or `asnorm:<K> (cohort of <n>)` against the model's cohort. Absent: none. */
    scoreNorm?: string;
    splits: SplitSummary[];
  };
  baselines: { content?: SpaceReport & { model: ModelInfo } };
  /** Service evaluation: embedSeconds is the readability check, evaluateSeconds the repeats. */
  timings: { embedSeconds: number; evaluateSeconds: number };
  /** Present when the protocol ran against a running service (`dfg eval --url`). */
  service?: ServiceReport;
}

/** How a service evaluation met the service; the decision settings are the service's own. */
export interface ServiceReport {
  url: string;
  /** The run's algorithms were named `eval-<runId>-<algorithm>` and deleted after each repeat. */
  runId: string;
  decision: { threshold: number; margin: number; topM: number; k: number };
  /**
   * Thresholds of the service's decisions: `calibration`, the global threshold of its stored
   * calibration (per-algorithm values name other algorithms); `configured`, DFG_THRESHOLD.
   */
  thresholdSource: 'calibration' | 'configured';
  calibration: { version: number; targetFpir: number; global: number } | null;
  /** Candidates asked per attribution (`?k=`). */
  candidates: number;
  /** Enabled algorithms present before the run (they compete only with --allow-existing). */
  existingAlgorithms: string[];
  /** Probe × registered-class scores absent from the answers' candidates, counted as −1; probes whose own algorithm was absent. */
  missingScores: { pairs: number; probes: number };
  /** Answers whose best candidate was an algorithm this run did not register. */
  foreignBest: number;
  requests: number;
  /** Requests (or single files of a batch) sent again after 503 + Retry-After. */
  retries: number;
  timings: { checkSeconds: number; enrolSeconds: number; attributeSeconds: number; cleanupSeconds: number };
}
