import type { Services } from '../serving/services.js';
import type { Metrics } from './plugins/metrics.js';
import type { KeyRing } from './plugins/auth.js';

/** What every route plugin receives. */
export interface RouteDeps {
  services: Services;
  metrics: Metrics;
  keyRing: KeyRing;
}
