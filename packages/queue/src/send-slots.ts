import { randomBytes } from 'node:crypto';
import { Keyspace } from './keyspace.ts';

export interface RateLimit {
  max: number;
  durationMs: number;
}

/**
 * A sliding-window log per provider: the instants of the requests sent in the last `durationMs`, kept in a sorted
 * set, trimmed and counted in one script (commands/take-send-slot.lua), on Redis's clock so every worker agrees. Taken
 * right before a request leaves, so the provider's declared rate holds at the provider, in any span, for scheduled and
 * on-demand refreshes alike. BullMQ's limiter counts job starts in fixed windows instead, and starts delayed by a slow
 * lock or read bunch up into bursts above the declared rate.
 *
 * Redis can lose the log (a FLUSHALL, a restart that drops its last second of writes) while the requests it held still
 * count at the provider, so an empty log would let a second window's worth through at once. Each process remembers
 * its own last slot; when that slot is missing from the log while still inside the window, the log was lost, and the
 * window is taken as full for one duration.
 */
export class SendSlots extends Keyspace {
  /** Per provider, this process's last slot: its member and when Redis granted it (Redis's clock). */
  readonly #last = new Map<string, { member: string; at: number }>();

  key(providerId: string): string {
    return `${this.prefix}:rate:${providerId}`;
  }

  /** Takes a slot for one request now (0), or says in how many milliseconds one frees up. */
  async take(providerId: string, limit: RateLimit): Promise<number> {
    const member = randomBytes(8).toString('base64url');
    const last = this.#last.get(providerId);
    const [wait, now] = await this.redis.evergreenTakeSendSlot(
      this.key(providerId),
      limit.max,
      limit.durationMs,
      member,
      last?.member ?? '',
      last?.at ?? 0,
    );
    if (wait === 0) this.#last.set(providerId, { member, at: now });
    return wait;
  }
}
