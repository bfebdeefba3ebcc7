// Endpoint configuration is pure and read at start by @evergreen/config, so it lives in core; re-exported here.
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
