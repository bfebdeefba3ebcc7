import type { FastifyHelmetOptions } from '@fastify/helmet';

/**
 * helmet's headers on every answer (refusals and problems included): nosniff, X-Frame-Options DENY, Referrer-Policy
 * no-referrer, and a CSP that lets a JSON answer load nothing and be framed by nobody. HSTS stays off subdomains, as
 * the board's: the api has no say over its neighbours. Cache-Control is not helmet's: the api sets no-store itself.
 */
export const API_HELMET_OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"], 'base-uri': ["'none'"] },
  },
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: { maxAge: 365 * 24 * 3600, includeSubDomains: false },
};
