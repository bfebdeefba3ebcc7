import type { ProviderEntry } from '@evergreen/core';
import { DAY, HOUR } from './units.ts';

/** E-commerce, marketplaces and payments. */
export const COMMERCE: readonly ProviderEntry[] = [
  {
    // Each shop is its own subdomain of myshopify.com; comma-separated scopes. Offline tokens made expiring answer
    // expires_in and a refresh token; classic offline tokens never expire and come without one, so no lifetime is
    // assumed when the answer names none.
    id: 'shopify',
    displayName: 'Shopify',
    source: 'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant',
    tokenUrl: 'https://{shop}.myshopify.com/admin/oauth/access_token',
    authorizationUrl: 'https://{shop}.myshopify.com/admin/oauth/authorize',
    tokenUrlHosts: ['*.myshopify.com'],
    authorization: { scopeSeparator: ',', defaultScopes: ['read_products'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: null,
  },
  {
    // The platform's secret key is the client secret; access tokens do not expire (a refresh token can mint new
    // ones); the connected account's id comes as stripe_user_id. Deauthorization is not RFC 7009: no revocationUrl.
    id: 'stripe-connect',
    displayName: 'Stripe Connect',
    source: 'https://docs.stripe.com/connect/oauth-reference',
    tokenUrl: 'https://connect.stripe.com/oauth/token',
    authorizationUrl: 'https://connect.stripe.com/oauth/authorize',
    authorization: { defaultScopes: ['read_write'], params: { response_type: 'code' } },
    clientAuth: 'client_secret_post',
    response: { metadata: { stripe_user_id: 'stripe_user_id' } },
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: null,
  },
  {
    // Login with Amazon, also the token service of the Selling Partner API: one-hour access tokens, long-lived
    // refresh tokens that are not replaced.
    id: 'amazon',
    displayName: 'Amazon (Login with Amazon)',
    source: 'https://developer.amazon.com/docs/login-with-amazon/authorization-code-grant.html',
    tokenUrl: 'https://api.amazon.com/auth/o2/token',
    authorizationUrl: 'https://www.amazon.com/ap/oa',
    authorization: { defaultScopes: ['profile'] },
    clientAuth: 'client_secret_post',
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: HOUR,
  },
  {
    // Basic auth; the refresh request names the scopes (the grant's, or fewer); two-hour access tokens and
    // 18-month refresh tokens, never replaced.
    id: 'ebay',
    displayName: 'eBay',
    source: 'https://developer.ebay.com/api-docs/static/oauth-refresh-token-request.html',
    tokenUrl: 'https://api.ebay.com/identity/v1/oauth2/token',
    authorizationUrl: 'https://auth.ebay.com/oauth2/authorize',
    authorization: { defaultScopes: ['https://api.ebay.com/oauth/api_scope'] },
    clientAuth: 'client_secret_basic',
    request: { scope: 'connection' },
    rotation: { rotates: 'never' },
    defaultLifetimeSeconds: 2 * HOUR,
    refreshTokenLifetimeSeconds: 47_304_000,
  },
  {
    // JSON bodies; no expires_in: the answer's expires_at is an ISO 8601 time (30 days out), and Square asks for a
    // refresh every 7 days or less anyway. Code-flow refresh tokens come back unchanged (PKCE ones are replaced); the
    // seller's merchant_id is kept in metadata. Its revoke takes a merchant id, not RFC 7009: no revocationUrl.
    id: 'square',
    displayName: 'Square',
    source: 'https://developer.squareup.com/docs/oauth-api/overview',
    tokenUrl: 'https://connect.squareup.com/oauth2/token',
    authorizationUrl: 'https://connect.squareup.com/oauth2/authorize',
    authorization: { defaultScopes: ['MERCHANT_PROFILE_READ'] },
    clientAuth: 'client_secret_post',
    request: { format: 'json' },
    response: {
      expiresIn: null,
      expiresAt: 'expires_at',
      expiresAtFormat: 'iso8601',
      metadata: { merchant_id: 'merchant_id' },
    },
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: 30 * DAY,
    keepAliveSeconds: 7 * DAY,
  },
  {
    // A public client: PKCE required, no secret (client_id in the body); one-hour access tokens, 90-day refresh
    // tokens.
    id: 'etsy',
    displayName: 'Etsy',
    source: 'https://developers.etsy.com/documentation/essentials/authentication/',
    tokenUrl: 'https://api.etsy.com/v3/public/oauth/token',
    authorizationUrl: 'https://www.etsy.com/oauth/connect',
    authorization: { defaultScopes: ['shops_r'], pkce: 'required' },
    clientAuth: 'none',
    rotation: { rotates: 'sometimes' },
    defaultLifetimeSeconds: HOUR,
    refreshTokenLifetimeSeconds: 90 * DAY,
  },
];
