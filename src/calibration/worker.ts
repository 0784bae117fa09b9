/**
 * Calibration worker thread: receives one packed task (protocol.ts), computes it (compute.ts) and
 * posts the result back, the metric's buffers transferred, or the error as plain data. One task
 * per thread: the runner starts a thread per calibration, so a cancelled one is simply terminated.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { serialiseError } from '../errors.js';
import { computeCalibration } from './compute.js';
import { resultTransfer, unpackTask, type CalibrationReply, type CalibrationTask } from './protocol.js';

if (isMainThread || !parentPort) throw new Error('calibration/worker.js runs only in a worker thread; use calibration/runner.js');
const port = parentPort;
port.once('message', (task: CalibrationTask) => {
  let reply: CalibrationReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const result = computeCalibration(unpackTask(task), task.opts);
    reply = { ok: true, result };
    transfer = resultTransfer(result);
  } catch (err) {
    reply = { ok: false, error: serialiseError(err) };
  }
  port.postMessage(reply, transfer);
});
