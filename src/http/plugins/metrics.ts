/** Prometheus metrics: request latency per route, decisions, gallery size, embed time, queue depth. */
import client from 'prom-client';
import type { FastifyInstance } from 'fastify';

export interface Metrics {
  registry: client.Registry;
  decisions: client.Counter<'decision'>;
  embedSeconds: client.Histogram<'model'>;
  searchSeconds: client.Histogram;
  enrolled: client.Counter<'outcome'>;
  shed: client.Counter<'reason'>;
  probes: client.Counter<'probe'>;
}

export interface MetricsSources {
  gallerySamples(): number | undefined;
  queueDepth(): number | undefined;
}

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'dfg_process_' });
  const decisions = new client.Counter({ name: 'dfg_decisions_total', help: 'Attribution decisions by type', labelNames: ['decision'] as const, registers: [registry] });
  const embedSeconds = new client.Histogram({
    name: 'dfg_embed_seconds', help: 'Decode + embedding time per image', labelNames: ['model'] as const, registers: [registry],
    buckets: [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56],
  });
  const searchSeconds = new client.Histogram({
    name: 'dfg_search_seconds', help: 'Gallery search time per query', registers: [registry],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
  });
  const enrolled = new client.Counter({ name: 'dfg_enrolled_samples_total', help: 'Enrolment outcomes per file', labelNames: ['outcome'] as const, registers: [registry] });
  new client.Gauge({
    name: 'dfg_gallery_samples', help: 'Samples in the gallery of the serving model', registers: [registry],
    collect() { const n = sources.gallerySamples(); if (n !== undefined) this.set(n); },
  });
  new client.Gauge({
    name: 'dfg_inference_queue', help: 'Images waiting for an inference worker', registers: [registry],
    collect() { const n = sources.queueDepth(); if (n !== undefined) this.set(n); },
  });
  const shed = new client.Counter({ name: 'dfg_requests_shed_total', help: 'Requests refused by admission control before their body was read, by reason', labelNames: ['reason'] as const, registers: [registry] });
  const probes = new client.Counter({ name: 'dfg_health_probes_total', help: 'Health probes answered (not in dfg_http_request_duration_seconds)', labelNames: ['probe'] as const, registers: [registry] });
  return { registry, decisions, embedSeconds, searchSeconds, enrolled, shed, probes };
}

/**
 * Request latency histogram labelled by route template (not raw URL, which would explode
 * cardinality). Health probes are only counted (`dfg_health_probes_total`, by their routes): they
 * come every few seconds from every orchestrator and load balancer, and time nothing of interest.
 */
export function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  const latency = new client.Histogram({
    name: 'dfg_http_request_duration_seconds', help: 'HTTP request latency by route',
    labelNames: ['method', 'route', 'status'] as const, registers: [metrics.registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (!request.routeOptions.config.probe) {
      const route = request.routeOptions.url ?? 'unmatched';
      latency.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    }
    done();
  });
}
