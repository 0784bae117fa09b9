/** The `--metric` and `--score-norm` options of `dfg eval` and `dfg calibrate`. */
import { InvalidArgumentError } from 'commander';
import { parseMetric, type MetricSetting } from '../config/metric-setting.js';
import { parseScoreNorm, type ScoreNormSetting } from '../config/score-norm-setting.js';

export const METRIC_HELP = 'similarity: cosine, or wccn[:shrinkage] (cosine after whitening the within-algorithm scatter of the registered samples; shrinkage in (0, 1], default 0.2)';

export function metricArg(v: string): MetricSetting {
  const m = parseMetric(v);
  if (!m) throw new InvalidArgumentError(`Expected cosine, wccn or wccn:<shrinkage in (0, 1]> but received ${JSON.stringify(v)}`);
  return m;
}

export const SCORE_NORM_HELP = 'score normalisation: asnorm[:K] against the model\'s cohort (K best cohort scores per side, default 100; only for models that ship a cohort), or none';

/** The `--score-norm` option of `dfg eval` and `dfg calibrate`. */
export function scoreNormArg(v: string): ScoreNormSetting {
  const s = parseScoreNorm(v);
  if (!s) throw new InvalidArgumentError(`Expected none, asnorm or asnorm:<K in 1..10000> but received ${JSON.stringify(v)}`);
  return s;
}
