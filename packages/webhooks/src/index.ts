export {
  signWebhook,
  verifyWebhookSignature,
  SIGNATURE_HEADER,
  DEFAULT_TOLERANCE_SECONDS,
  type VerifyWebhookSignatureInput,
} from './signature.ts';
export {
  parseWebhookEndpoints,
  endpointWants,
  ENDPOINT_ID_PATTERN,
  MIN_SECRET_LENGTH,
  ALL_EVENTS,
  type WebhookEndpoint,
  type ParseWebhookEndpointsOptions,
  type ParsedWebhookEndpoints,
} from '@evergreen/core';
export { WebhookDispatcher, type WebhookDispatcherOptions, type WebhookTickResult } from './webhook-dispatcher.ts';
export { webhookBody, USER_AGENT, type OutboxEvent, type WebhookAttempt } from './webhook-request.ts';
export { deliveryBackoff } from './backoff.ts';
export { passableEvents, type OutboxEventRef } from './outbox-gaps.ts';
