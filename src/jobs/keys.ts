/**
 * Redis key names. Every key of one job shares the `{jobId}` hash tag, so the commit script
 * touches a single slot (Redis Cluster) and a job's data can be found and dropped together.
 */
export const QUEUE_NAME = 'chunks';

export interface JobKeys {
  /** Hash: the job record and its counters. */
  record(id: string): string;
  /** Hash: chunk index → commit time (a chunk counts once however often it runs). */
  chunks(id: string): string;
  /** Hash: chunk index → JSON array of result rows. */
  results(id: string): string;
  /** Hash: chunk index → JSON array of item errors. */
  errors(id: string): string;
  /** Hash: item index → image bytes of one archive chunk, until that chunk is committed. */
  payload(id: string, chunk: number): string;
  /** Set: sha256 of samples an earlier attempt of one enrolment chunk created. */
  created(id: string, chunk: number): string;
  /** Sorted set of job ids by creation time. */
  readonly index: string;
  /** String with a time to live: present while the process owning an import queue is alive. */
  owner(queue: string): string;
}

export function jobKeys(prefix: string): JobKeys {
  const base = (id: string) => `${prefix}:job:{${id}}`;
  return {
    record: base,
    chunks: (id) => `${base(id)}:chunks`,
    results: (id) => `${base(id)}:results`,
    errors: (id) => `${base(id)}:errors`,
    payload: (id, chunk) => `${base(id)}:payload:${chunk}`,
    created: (id, chunk) => `${base(id)}:created:${chunk}`,
    index: `${prefix}:jobs`,
    owner: (queue) => `${prefix}:import-owner:${queue}`,
  };
}
