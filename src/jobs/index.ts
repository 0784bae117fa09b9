/**
 * Batch jobs on BullMQ: the API submits a source (archive, import directory, URLs) as chunks,
 * `dfg worker` processes embed and commit them, job records in Redis hold progress and results.
 */
export { JobClient, type SubmitTarget } from './client.js';
export { createImportRunner, type ImportRunner, type ImportSubmission } from './import-runner.js';
export { createJobWorker, workerConcurrency, type JobWorker, type JobWorkerOptions } from './worker.js';
export { startWorkerProcess, type WorkerProcess } from './run.js';
export { createChunkProcessor, type ChunkResult } from './processor.js';
export { toJobView, type JobView, ENROL_OUTCOMES, AUDIT_OUTCOMES } from './view.js';
export { formatRows, type ResultFormat } from './results.js';
export type { JobKind, JobState, SourceType, ResultRow, AuditRow, EnrolRow } from './schemas.js';
