/** The upload slots with a bounded wait (admission-gate.ts): newest waiter first, shed after the wait or when too many wait. */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { AdmissionGate, type Waiter } from '../src/http/plugins/admission-gate.js';

/** A waiter that records what happened to it under `name`; `refuse` makes its admission fail (a full queue or budget). */
function waiter(log: string[], name: string, refuse = false): Waiter {
  return {
    admit: () => { log.push(`${name} ${refuse ? 'refused' : 'admitted'}`); return !refuse; },
    shed: () => { log.push(`${name} shed`); },
  };
}

t.test('a freed slot goes to the newest waiter; the oldest are shed after the wait', async (t) => {
  const log: string[] = [];
  const gate = new AdmissionGate({ slots: 2, maxWaiters: 8, waitMs: 60 });
  for (const name of ['a', 'b', 'c', 'd', 'e']) gate.enter(waiter(log, name));
  t.same(log, ['a admitted', 'b admitted'], 'two slots, three wait');
  t.equal(gate.inflight, 2);
  t.equal(gate.waiting, 3);
  gate.release();
  t.same(log.slice(2), ['e admitted'], 'the newest waiter takes the freed slot');
  t.equal(gate.inflight, 2);
  await sleep(120);
  t.same(log.slice(3).sort(), ['c shed', 'd shed'], 'the others are shed once their wait is over');
  t.equal(gate.waiting, 0);
  gate.release();
  gate.release();
  t.equal(gate.inflight, 0);
  gate.enter(waiter(log, 'f'));
  t.same(log.slice(-1), ['f admitted'], 'a free slot admits at once');
});

t.test('more waiters than allowed, or no wait at all: shed at once', async (t) => {
  const log: string[] = [];
  const gate = new AdmissionGate({ slots: 1, maxWaiters: 1, waitMs: 10_000 });
  gate.enter(waiter(log, 'a'));
  gate.enter(waiter(log, 'b'));
  gate.enter(waiter(log, 'c'));
  t.same(log, ['a admitted', 'c shed'], 'one may wait, the next is shed at once');
  gate.close();
  t.same(log.slice(2), ['b shed'], 'closing sheds those still waiting');

  const none: string[] = [];
  const noWait = new AdmissionGate({ slots: 1, maxWaiters: 4, waitMs: 0 });
  noWait.enter(waiter(none, 'a'));
  noWait.enter(waiter(none, 'b'));
  t.same(none, ['a admitted', 'b shed'], 'waitMs 0 sheds at once');
});

t.test('a waiter that leaves is forgotten; a refused admission takes no slot', async (t) => {
  const log: string[] = [];
  const gate = new AdmissionGate({ slots: 1, maxWaiters: 4, waitMs: 10_000 });
  gate.enter(waiter(log, 'a'));
  const gone = waiter(log, 'gone');
  gate.enter(waiter(log, 'b'));
  gate.enter(gone);
  t.ok(gate.leave(gone), 'the client went away while waiting');
  t.notOk(gate.leave(gone), 'only once');
  const refusing = waiter(log, 'r', true);
  gate.enter(refusing);
  gate.release();
  t.same(log, ['a admitted', 'r refused', 'b admitted'], 'the refused waiter held no slot: the next one gets it');
  t.equal(gate.inflight, 1);
  t.equal(gate.waiting, 0);
  gate.close();
});
