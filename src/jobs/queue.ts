/** Queue settings shared by the API (producer) and the workers. */
import crypto from 'node:crypto';
import type { DefaultJobOptions } from 'bullmq';
import type { Config } from '../config/index.js';

export type JobConfig = Pick<Config,
  | 'REDIS_URL' | 'DFG_JOB_PREFIX' | 'DFG_JOB_CHUNK_SIZE' | 'DFG_JOB_ATTEMPTS' | 'DFG_JOB_BACKOFF_MS' | 'DFG_JOB_KEEP_SECONDS'
  | 'DFG_JOB_KEEP_COUNT' | 'DFG_JOB_CONNECT_TIMEOUT_MS' | 'DFG_JOB_MAX_ITEMS' | 'DFG_JOB_ARCHIVE_MAX_UNCOMPRESSED'
  | 'DFG_JOB_ARCHIVE_MAX_RATIO' | 'DFG_MAX_IMAGE_BYTES' | 'DFG_IMPORT_ROOTS' | 'DFG_URL_ALLOWLIST' | 'DFG_URL_ALLOW_PRIVATE'
  | 'DFG_JOB_URL_TIMEOUT_MS'>;

/** Chunk jobs: transient failures retry with exponential backoff; finished chunks are removed by age and count. */
export function chunkJobOptions(cfg: JobConfig): DefaultJobOptions {
  return {
    attempts: cfg.DFG_JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: cfg.DFG_JOB_BACKOFF_MS },
    // The job record in Redis keeps the outcome; the BullMQ job is only bookkeeping once done.
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: cfg.DFG_JOB_KEEP_SECONDS, count: 10_000 },
  };
}

export function newJobId(): string {
  return `job_${crypto.randomBytes(12).toString('base64url')}`;
}

/** BullMQ job id of one chunk (BullMQ refuses ':' in custom ids). */
export function chunkJobId(jobId: string, index: number): string {
  return `${jobId}.${index}`;
}
