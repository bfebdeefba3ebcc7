import { safeError, type Logger } from '@evergreen/log';
import { WebhookDeliveries, type Database } from '@evergreen/store';
import { Agent, type Dispatcher } from 'undici';
import { deliveryBackoff } from './backoff.ts';
import { endpointWants, retryDelayMs, type BackoffPolicy, type WebhookEndpoint } from '@evergreen/core';
import { passableEvents } from './outbox-gaps.ts';
import { postWebhook, type WebhookAttempt } from './webhook-request.ts';

export interface WebhookDispatcherOptions {
  db: Database;
  endpoints: readonly WebhookEndpoint[];
  log: Logger;
  /** Pause between ticks of `start()`'s loop (none while a tick found a full batch). */
  intervalMs?: number;
  /** Events read per endpoint per tick, and deliveries claimed per endpoint per tick. */
  batchSize?: number;
  /** Tries per delivery, the first included; then the row is `failed`. */
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** One POST, from connecting to the end of the response body. */
  timeoutMs?: number;
  /** POSTs in flight at once per endpoint. */
  concurrency?: number;
  /** How long a gap in the outbox ids is waited for before the cursor passes it (see outbox-gaps.ts). */
  gapGraceMs?: number;
  /** Tests route through their own; by default the dispatcher keeps a pooled Agent (closed by `stop()`). */
  dispatcher?: Dispatcher;
  /** The signing clock (ms). Schedules (due times, leases, backoff) use the database clock, one for all replicas. */
  now?: () => number;
  /** Backoff jitter, in [0, 1). */
  random?: () => number;
}

/** What one tick did, over all endpoints. */
export interface WebhookTickResult {
  /** Delivery rows created from new outbox events. */
  enqueued: number;
  delivered: number;
  /** Deliveries given up on this tick (attempts reached maxAttempts). */
  failed: number;
  /** Failed tries rescheduled with backoff. */
  retried: number;
}

/** Added to the time a claimed batch can take: the database writes after the last POST. */
const LEASE_MARGIN_MS = 5_000;

function positiveInteger(name: string, value: number, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number ≥ ${min}`);
  return value;
}

/**
 * Delivers the outbox to the configured endpoints, at least once, signed. Every replica may run one: per endpoint,
 * the cursor row's lock (skip locked) lets one replica at a time fan new events out into delivery rows, and a lease on
 * each claimed delivery row lets one replica at a time POST it. A replica that dies mid-batch costs a lease's delay.
 */
export class WebhookDispatcher {
  readonly #deliveries: WebhookDeliveries;
  readonly #endpoints: readonly WebhookEndpoint[];
  readonly #log: Logger;
  readonly #logs = new Map<string, Logger>();
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #maxAttempts: number;
  readonly #backoff: BackoffPolicy;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #gapGraceMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #givenDispatcher: Dispatcher | undefined;
  #agent: Agent | null = null;
  /** Ticks run one after another, never overlapping; this is the last one queued. */
  #chain: Promise<unknown> = Promise.resolve();
  #looping = false;
  #timer: NodeJS.Timeout | null = null;
  #backlog = false;

  constructor(options: WebhookDispatcherOptions) {
    this.#deliveries = new WebhookDeliveries(options.db);
    this.#endpoints = [...options.endpoints];
    const ids = new Set(this.#endpoints.map((e) => e.id));
    if (ids.size !== this.#endpoints.length) throw new RangeError('webhook endpoint ids must be unique');
    this.#log = options.log.child({ component: 'webhooks' });
    for (const endpoint of this.#endpoints) this.#logs.set(endpoint.id, this.#log.child({ endpoint: endpoint.id }));
    this.#intervalMs = positiveInteger('intervalMs', options.intervalMs ?? 1_000);
    this.#batchSize = positiveInteger('batchSize', options.batchSize ?? 100);
    this.#maxAttempts = positiveInteger('maxAttempts', options.maxAttempts ?? 12);
    const baseMs = positiveInteger('baseBackoffMs', options.baseBackoffMs ?? 1_000, 0);
    const maxMs = positiveInteger('maxBackoffMs', options.maxBackoffMs ?? 3_600_000, baseMs);
    this.#backoff = deliveryBackoff({ baseMs, maxMs });
    this.#timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? 10_000);
    this.#concurrency = positiveInteger('concurrency', options.concurrency ?? 8);
    this.#gapGraceMs = positiveInteger('gapGraceMs', options.gapGraceMs ?? 10_000, 0);
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#givenDispatcher = options.dispatcher;
  }

  /**
   * How long a claim keeps a delivery row from other replicas: every POST of the batch, wave after wave of
   * `concurrency`, each bounded by `timeoutMs`, plus a margin for the writes.
   */
  get leaseMs(): number {
    return this.#timeoutMs * Math.ceil(this.#batchSize / this.#concurrency) + LEASE_MARGIN_MS;
  }

  /** One pass over every endpoint: fan new events out, then deliver what is due. Failures are logged, not thrown. */
  tick(): Promise<WebhookTickResult> {
    const run = this.#chain.then(() => this.#tick());
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Ticks now, then `intervalMs` after each tick ends (at once while there is a backlog). Idempotent. */
  start(): void {
    if (this.#looping) return;
    this.#looping = true;
    const loop = async (): Promise<void> => {
      this.#timer = null;
      try {
        await this.tick();
      } catch (error) {
        this.#log.error({ err: safeError(error) }, 'webhook tick failed');
      }
      if (this.#looping) this.#timer = setTimeout(() => void loop(), this.#backlog ? 0 : this.#intervalMs);
    };
    void loop();
  }

  /** Stops the loop, waits for a running tick to finish, and closes the HTTP pool the dispatcher made. */
  async stop(): Promise<void> {
    this.#looping = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#chain;
    const agent = this.#agent;
    this.#agent = null;
    await agent?.close();
  }

  async #tick(): Promise<WebhookTickResult> {
    const total: WebhookTickResult = { enqueued: 0, delivered: 0, failed: 0, retried: 0 };
    let backlog = false;
    await Promise.all(
      this.#endpoints.map(async (endpoint) => {
        const log = this.#logFor(endpoint);
        try {
          const fanOut = await this.#fanOut(endpoint, log);
          total.enqueued += fanOut.enqueued;
          backlog ||= fanOut.full;
        } catch (error) {
          log.error({ err: safeError(error) }, 'webhook fan-out failed');
        }
        try {
          const delivery = await this.#deliver(endpoint, log);
          total.delivered += delivery.delivered;
          total.failed += delivery.failed;
          total.retried += delivery.retried;
          backlog ||= delivery.full;
        } catch (error) {
          log.error({ err: safeError(error) }, 'webhook delivery pass failed');
        }
      }),
    );
    this.#backlog = backlog;
    return total;
  }

  /**
   * Turns the events after the endpoint's cursor into pending delivery rows (for the kinds it wants) and moves the
   * cursor past every event read, in one transaction under the cursor row's lock. Another replica holding the lock
   * means it is doing this very work: skip.
   */
  async #fanOut(endpoint: WebhookEndpoint, log: Logger): Promise<{ enqueued: number; full: boolean }> {
    const result = await this.#deliveries.fanOut(endpoint.id, this.#batchSize, (lastEventId, read) => {
      const { events, heldBefore } = passableEvents(lastEventId, read, this.#gapGraceMs);
      return {
        deliver: events.filter((event) => endpointWants(endpoint, event.kind)).map((event) => event.id),
        moveCursorTo: events.at(-1)?.id ?? null,
        heldBefore,
      };
    });
    if (!result) return { enqueued: 0, full: false };
    const { heldBefore } = result.plan;
    if (heldBefore !== null) {
      log.debug({ eventId: heldBefore }, 'webhook fan-out waits for a gap in the outbox ids');
    }
    if (result.enqueued > 0) log.debug({ count: result.enqueued }, 'webhook deliveries enqueued');
    return { enqueued: result.enqueued, full: result.read === this.#batchSize && heldBefore === null };
  }

  /** Claims the endpoint's due deliveries under a lease, POSTs them (bounded concurrency), records each outcome. */
  async #deliver(
    endpoint: WebhookEndpoint,
    log: Logger,
  ): Promise<{ delivered: number; failed: number; retried: number; full: boolean }> {
    const counts = { delivered: 0, failed: 0, retried: 0, full: false };
    const claimed = await this.#deliveries.claimDue(endpoint.id, this.#batchSize, this.leaseMs);
    if (claimed.length === 0) return counts;
    counts.full = claimed.length === this.#batchSize;

    const rows = await this.#deliveries.events(claimed.map((c) => c.eventId));
    const events = new Map(rows.map((row) => [row.id, row]));

    await eachLimit(claimed, this.#concurrency, async (delivery) => {
      const event = events.get(delivery.eventId);
      const attempts = delivery.attempts + 1;
      const attempt: WebhookAttempt = event
        ? await postWebhook({
            url: endpoint.url,
            secret: endpoint.secret,
            event,
            timestampSeconds: Math.floor(this.#now() / 1000),
            timeoutMs: this.#timeoutMs,
            dispatcher: this.#http(),
          })
        : // The event row is gone (retention ran first): nothing left to send, ever.
          { ok: false, httpStatus: null, reason: 'event missing', durationMs: 0 };
      const context = { eventId: delivery.eventId, kind: event?.kind, attempts, durationMs: attempt.durationMs };
      try {
        if (attempt.ok) {
          await this.#deliveries.record(endpoint.id, delivery.eventId, {
            status: 'delivered',
            httpStatus: attempt.httpStatus,
          });
          counts.delivered++;
          log.debug({ ...context, httpStatus: attempt.httpStatus }, 'webhook delivered');
        } else if (attempts >= this.#maxAttempts || !event) {
          await this.#deliveries.record(endpoint.id, delivery.eventId, {
            status: 'failed',
            httpStatus: attempt.httpStatus,
            error: attempt.reason,
          });
          counts.failed++;
          log.error(
            { ...context, httpStatus: attempt.httpStatus, reason: attempt.reason },
            'webhook delivery failed for good',
          );
        } else {
          const retryInMs = retryDelayMs(attempts, this.#backoff, this.#random);
          await this.#deliveries.record(endpoint.id, delivery.eventId, {
            status: 'pending',
            httpStatus: attempt.httpStatus,
            error: attempt.reason,
            retryInMs,
          });
          counts.retried++;
          log.warn(
            { ...context, httpStatus: attempt.httpStatus, reason: attempt.reason, retryInMs },
            'webhook delivery failed, will retry',
          );
        }
      } catch (error) {
        // The lease runs out and the delivery is tried again: at least once, never lost.
        log.error({ ...context, err: safeError(error) }, 'webhook delivery outcome not recorded');
      }
    });
    return counts;
  }

  #logFor(endpoint: WebhookEndpoint): Logger {
    return this.#logs.get(endpoint.id) ?? this.#log.child({ endpoint: endpoint.id });
  }

  #http(): Dispatcher {
    if (this.#givenDispatcher) return this.#givenDispatcher;
    this.#agent ??= new Agent({
      connect: { timeout: this.#timeoutMs },
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
      keepAliveTimeout: 10_000,
    });
    return this.#agent;
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. `fn` must not reject. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
