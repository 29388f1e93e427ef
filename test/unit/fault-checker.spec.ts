import { describe, expect, it } from '@jest/globals';
import { checkHistory } from '../faults/checker.js';
import type { Access, Grant, HistoryEvent, Release } from '../faults/history.js';

const grant = (
  worker: number,
  lock: string,
  startedAt: number,
  at: number,
  validUntil: number,
  token?: number,
): Grant => ({
  type: 'grant',
  worker,
  lock,
  startedAt,
  at,
  validUntil,
  token: token?.toString(),
});
const release = (worker: number, lock: string, at: number): Release => ({
  type: 'release',
  worker,
  lock,
  at,
});
const access = (
  type: 'read' | 'write',
  worker: number,
  lock: string,
  sentAt: number,
  value: number,
  token?: number,
): Access => ({ type, worker, lock, sentAt, at: sentAt + 1, value, token: token?.toString() });

/** Two holders one after the other, each reading then writing the counter: a clean history. */
const clean = (fenced: boolean): HistoryEvent[] => {
  const token = (n: number) => (fenced ? n : undefined);
  return [
    grant(1, 'a', 0, 2, 100, token(1)),
    access('read', 1, 'a', 3, 0, token(1)),
    access('write', 1, 'a', 10, 1, token(1)),
    release(1, 'a', 20),
    grant(2, 'b', 15, 25, 120, token(2)),
    access('read', 2, 'b', 26, 1, token(2)),
    access('write', 2, 'b', 30, 2, token(2)),
    release(2, 'b', 40),
  ];
};
const kinds = (events: HistoryEvent[], finalValue: number) =>
  checkHistory(events, finalValue).violations.map((violation) => violation.kind);

describe('the fault-suite checker', () => {
  it.each([true, false])('finds nothing in a clean history (fenced: %s)', (fenced) => {
    const report = checkHistory(clean(fenced), 2);
    expect(report).toMatchObject({ grants: 2, acceptedWrites: 2, refused: 0, lateWrites: 0 });
    expect(report.violations).toEqual([]);
  });

  it('reports overlapping validity windows, and ends a window at its release', () => {
    const events = clean(false).filter((event) => event.type !== 'release');
    // Without the releases, the first window runs to 100, past the second grant at 25.
    expect(kinds(events, 2)).toEqual(['overlap']);
  });

  it('reports an access accepted with a token lower than one already answered', () => {
    const events = [
      ...clean(true),
      // Holder 1 wakes up and writes with token 1 after token 2 was answered.
      access('write', 1, 'a', 50, 1, 1),
    ];
    expect(kinds(events, 3)).toEqual(['stale-accepted']);
  });

  it('reports a grant that did not get a larger token than one returned before it started', () => {
    const events = clean(true).map((event) =>
      event.type === 'grant' && event.lock === 'b' ? { ...event, token: '1' } : event,
    );
    expect(kinds(events, 2)).toContain('token-order');
  });

  it('does not order tokens of grants that overlapped in time', () => {
    const events = [
      grant(1, 'a', 0, 10, 11, 2),
      release(1, 'a', 11),
      // Started before grant a returned: its token may be lower.
      grant(2, 'b', 5, 12, 30, 1),
    ];
    expect(kinds(events, 0)).toEqual([]);
  });

  it('lets read windows overlap each other, and reports one beside an exclusive window', () => {
    const read = (worker: number, lock: string, at: number, until: number): Grant => ({
      ...grant(worker, lock, at - 1, at, until),
      mode: 'read',
    });
    expect(kinds([read(1, 'r1', 0, 50), read(2, 'r2', 10, 60), read(3, 'r3', 20, 30)], 0)).toEqual(
      [],
    );
    // A writer after the readers' windows ended, then readers after its window: clean.
    expect(
      kinds([read(1, 'r1', 0, 50), grant(2, 'w', 55, 60, 90), read(3, 'r3', 95, 120)], 0),
    ).toEqual([]);
    // A reader inside a writer's window, and a writer inside a long read window.
    expect(kinds([grant(1, 'w', 0, 1, 50), read(2, 'r', 20, 30)], 0)).toEqual(['overlap']);
    expect(
      kinds([read(1, 'r', 0, 100), read(2, 'r2', 5, 10), grant(3, 'w', 20, 30, 40)], 0),
    ).toEqual(['overlap']);
  });

  it('reports a lost update and counts late writes', () => {
    const events = [
      ...clean(false),
      // A third write, sent after its lock's validity, based on a stale read: accepted.
      grant(3, 'c', 41, 42, 60),
      access('read', 3, 'c', 43, 2),
      release(3, 'c', 44),
      access('write', 3, 'c', 70, 3),
    ];
    const report = checkHistory(events, 2);
    expect(report.violations.map((violation) => violation.kind)).toEqual(['lost-update']);
    expect(report.lateWrites).toBe(1);
  });
});
