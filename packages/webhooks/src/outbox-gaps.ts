import type { OutboxEventRef } from '@evergreen/store';

export type { OutboxEventRef };

/**
 * The events the cursor may pass: the run after `lastEventId`, stopping before a young gap in the ids.
 *
 * Identity values are handed out when rows are inserted, not when their transactions commit, so event 6 can be
 * visible while event 5 is still on its way; a cursor moved past 6 would never deliver 5. A gap is therefore held
 * until the event after it is `gapGraceMs` old: by then the missing id belongs to a transaction that rolled back (or
 * to rows that were deleted), and the cursor moves on. Outbox rows are written in short transactions (the statement
 * that makes the change), so a few seconds are ample.
 */
export function passableEvents<T extends OutboxEventRef>(
  lastEventId: number,
  events: readonly T[],
  gapGraceMs: number,
): { events: T[]; heldBefore: number | null } {
  const passed: T[] = [];
  let expected = lastEventId + 1;
  for (const event of events) {
    if (event.id !== expected && event.ageMs < gapGraceMs) return { events: passed, heldBefore: event.id };
    passed.push(event);
    expected = event.id + 1;
  }
  return { events: passed, heldBefore: null };
}
