import type { ConnectionStatus } from './connection-status.ts';

/** What apps hear about their connections (docs/events.md). Every status change and every refresh outcome that matters. */
export const EVENT_KINDS = [
  'connection.created',
  'connection.connected',
  'connection.refreshed',
  'connection.refresh_failed',
  'connection.token_expired',
  'connection.needs_reauth',
  'connection.error',
  'connection.disconnected',
  'connection.refresh_token_expiring',
  'connection.reconnected',
  'provider.outage_started',
  'provider.outage_ended',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
/** Events about a provider as a whole (its breaker), not about one connection. */
export type ProviderEventKind = Extract<EventKind, `provider.${string}`>;
export type ConnectionEventKind = Exclude<EventKind, ProviderEventKind>;

/** An event's data: identifiers, status and times. Never a token, never a credential. */
export interface ConnectionEventPayload {
  connectionId: string;
  ownerId: string;
  provider: string;
  status: ConnectionStatus;
  /** The classified reason of a failure (invalid_grant, server_error, ...). */
  reason?: string | null;
  expiresAt?: string | null;
  refreshTokenExpiresAt?: string | null;
  consecutiveFailures?: number;
  /** connection.reconnected: the status the connect flow brought it back from (needs_reauth, error, ...). */
  previousStatus?: ConnectionStatus;
}

/** A provider outage's data: when the breaker opened (and closed) and why. No connection, no owner, no token. */
export interface ProviderOutagePayload {
  provider: string;
  /** ISO time the breaker opened (null: unknown, Redis lost the breaker while it was open). */
  openedAt: string | null;
  /** ISO time it closed (provider.outage_ended only). */
  closedAt?: string;
  /** The classified reason of the failure that opened it (server_error, timeout, network...). */
  reason: string | null;
  /** The window's counts when it opened. */
  failures?: number;
  requests?: number;
  windowMs?: number;
}

/** What a subscriber or a webhook receives about a connection. */
export interface ConnectionChangeEvent {
  /** Unique and increasing: receivers deduplicate on it (delivery is at least once). */
  id: number;
  kind: ConnectionEventKind;
  createdAt: string;
  data: ConnectionEventPayload;
}

/** What a subscriber or a webhook receives about a provider as a whole (its breaker opened or closed). */
export interface ProviderEvent {
  id: number;
  kind: ProviderEventKind;
  createdAt: string;
  data: ProviderOutagePayload;
}

/** Every event: its `kind` says which `data` it carries. */
export type ConnectionEvent = ConnectionChangeEvent | ProviderEvent;

export function isProviderEvent(event: ConnectionEvent): event is ProviderEvent {
  return event.kind.startsWith('provider.');
}

export interface EventSpec {
  kind: ConnectionEventKind;
  payload: ConnectionEventPayload;
}

/** The outbox row of a provider event names this subject in place of a connection id (no connection id has a ':'). */
export function providerEventSubject(provider: string): string {
  return `provider:${provider}`;
}

/** Consecutive transient failures that make a streak worth telling apps about, once per streak. */
export const FAILURE_STREAK = 3;

export interface OutcomeEventInput {
  connection: { id: string; ownerId: string; provider: string; status: ConnectionStatus; consecutiveFailures: number };
  outcome: 'success' | 'transient' | 'rate_limited' | 'reauth' | 'fatal';
  reason: string | null;
  /** The status the write sets. */
  status: ConnectionStatus;
  expiresAt?: number | null;
  refreshTokenExpiresAt?: number | null;
  warnRefreshTokenExpiry?: boolean;
}

/**
 * Which events one refresh outcome produces: every success; a transient streak once, when it reaches FAILURE_STREAK;
 * every change of status. Pure, so the rules are tested without a database.
 */
export function eventsForOutcome(input: OutcomeEventInput): EventSpec[] {
  const { connection, status } = input;
  const failures =
    input.outcome === 'success'
      ? 0
      : input.outcome === 'rate_limited'
        ? connection.consecutiveFailures
        : connection.consecutiveFailures + 1;
  const iso = (ms: number | null | undefined) =>
    ms === undefined ? undefined : ms === null ? null : new Date(ms).toISOString();
  const payload: ConnectionEventPayload = {
    connectionId: connection.id,
    ownerId: connection.ownerId,
    provider: connection.provider,
    status,
    ...(input.reason !== null && { reason: input.reason }),
    ...(input.expiresAt !== undefined && { expiresAt: iso(input.expiresAt) }),
    ...(input.refreshTokenExpiresAt !== undefined && { refreshTokenExpiresAt: iso(input.refreshTokenExpiresAt) }),
    consecutiveFailures: failures,
  };
  const events: EventSpec[] = [];
  const add = (kind: ConnectionEventKind) => events.push({ kind, payload });
  switch (input.outcome) {
    case 'success':
      add('connection.refreshed');
      if (input.warnRefreshTokenExpiry) add('connection.refresh_token_expiring');
      break;
    case 'transient':
      if (failures === FAILURE_STREAK) add('connection.refresh_failed');
      break;
    case 'reauth':
      add('connection.needs_reauth');
      break;
    case 'fatal':
      add('connection.error');
      break;
    case 'rate_limited':
      break;
  }
  if (status === 'token_expired' && connection.status !== 'token_expired') add('connection.token_expired');
  return events;
}
