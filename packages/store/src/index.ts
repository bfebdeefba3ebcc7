export {
  openDatabase,
  closeDatabase,
  pingDatabase,
  checkSearchPath,
  SearchPathError,
  type Database,
  type DatabaseOptions,
  type PoolMode,
} from './database.ts';
export { DatabaseError } from './database-error.ts';
export { migrateDatabase, dropSchema, MIGRATIONS_FOLDER } from './migrate.ts';
export {
  ConnectionStore,
  type UpsertConnection,
  type AttemptAudit,
  type SuccessWrite,
  type FailureWrite,
  type WriteResult,
  type ScheduleRow,
} from './connection-store.ts';
export type { AccessRow, StoredConnection } from './stored-connection.ts';
export { ConnectionCounts, type StatusCount, type ExpiringCount } from './connection-counts.ts';
export { ConnectionDirectory, type ConnectionFilter, type ConnectionPage } from './connection-directory.ts';
export {
  WebhookDeliveries,
  type ClaimedDelivery,
  type DeliveryOutcome,
  type FanOutPlan,
  type OutboxEventRef,
} from './webhook-deliveries.ts';
export type { OutboxEvent } from './outbox.ts';
export { RefreshAudit, type RefreshEventRow, type FailureCount, type AttemptBucket } from './refresh-audit.ts';
export { eventsChannel } from './event-feed.ts';
export type { ConnectionView } from './connection-view.ts';
export type { BulkUpsertResult, KeptRow, UpsertManyOptions } from './bulk-upsert.ts';
export { rotateKeys, type RotationProgress } from './key-rotation.ts';
export { KeyUsage, type KeyUsageTotal, type KeyUsageFlush, type KeyUsageReports } from './key-usage.ts';
export { ApiKeyStore, type ApiKeyView, type CreatedApiKey } from './api-key-store.ts';
export {
  ConnectSessions,
  type ConnectSession,
  type ConnectSecrets,
  type ConsumeResult,
  type NewConnectSession,
} from './connect-sessions.ts';
