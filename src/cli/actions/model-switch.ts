/**
 * `dfg model switch <list>` (also `dfg models switch`): switches a running service to another
 * model list without a restart (PUT /v1/model, scope admin). Its options: ../commands/model-switch.ts.
 */
import { api, ok, type ApiOptions, type CliApi } from '../api.js';

/** `dfg model switch <list>` */
export async function modelSwitch(list: string, o: ApiOptions & { force?: boolean; json?: boolean }): Promise<void> {
  await switchModels(api(o), list, o);
}

/** PUT /v1/model, then prints the answer (JSON, or the lines a person reads). */
export async function switchModels({ client }: CliApi, list: string, o: { force?: boolean; json?: boolean }): Promise<void> {
  const r = await ok(client.PUT('/v1/model', { body: { model: list, ...(o.force ? { force: true } : {}) } }));
  if (o.json) {
    console.log(JSON.stringify(r, null, 2));
    return;
  }
  const g = r.gallery;
  if (!r.switched) console.log(`already serving ${r.model}; nothing changed`);
  else console.log(`serving ${r.model} (was ${r.previous}): loaded in ${r.loadMs} ms, old models closed after ${r.drainMs} ms`);
  console.log(`index ${g.model.id}: ${g.counts.samples} samples searched of ${g.counts.stored} stored, ${g.counts.needsReembedding} lacking a vector of a listed model`);
  console.log(g.calibration
    ? `calibrated (version ${g.calibration.version}, global ${g.calibration.global.toFixed(3)})`
    : 'not calibrated: DFG_THRESHOLD (else the model\'s default threshold) applies; calibrate with POST /v1/calibration (or DFG_MODEL=<list> dfg calibrate)');
  console.log(restartNote(r.model, g.model.configured));
}

/** What a restart of the service will serve, given its DFG_MODEL (null: unset), and what workers do. */
function restartNote(model: string, configured: string | null): string {
  const restart = configured !== null && configured !== model
    ? `note: the service's DFG_MODEL=${configured} wins at its next restart: unset it (or set it to ${model}) to keep serving ${model}`
    : `recorded in the gallery: restarts keep serving ${model} unless DFG_MODEL is set to another list`;
  return `${restart}\ndfg worker processes embed with their models until restarted (then they follow the same rule)`;
}
