/** The `--metric` option of `dfg eval` and `dfg calibrate`. */
import { InvalidArgumentError } from 'commander';
import { parseMetric, type MetricSetting } from '../config/metric-setting.js';

export const METRIC_HELP = 'similarity: cosine, or wccn[:shrinkage] (cosine after whitening the within-algorithm scatter of the registered samples; shrinkage in (0, 1], default 0.2)';

export function metricArg(v: string): MetricSetting {
  const m = parseMetric(v);
  if (!m) throw new InvalidArgumentError(`Expected cosine, wccn or wccn:<shrinkage in (0, 1]> but received ${JSON.stringify(v)}`);
  return m;
}
