import type { FastifyHelmetOptions } from '@fastify/helmet';

/**
 * The CSP of every answer but the token-health page (which sends its own, stricter, hash-based one): Bull Board's UI
 * loads its scripts and styles from the board itself; its markup carries style attributes and a <style> element, hence
 * 'unsafe-inline' for styles only, never for scripts. Its Google Fonts stylesheet is left blocked (nothing leaves for
 * another host; the fallback fonts do). Its page sets <base href> to its mount path, hence base-uri 'self'.
 */
export const BOARD_CSP_DIRECTIVES = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * @fastify/helmet's headers on every answer (errors, 401s and 404s included): nosniff, X-Frame-Options DENY,
 * Referrer-Policy no-referrer, the CSP above, and helmet's other defaults (cross-origin isolation of the board's
 * resources, no DNS prefetch). HSTS stays off subdomains: the board has no say over its neighbours. Cache-Control is
 * not helmet's: the board sets no-store itself.
 */
export const HELMET_OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: BOARD_CSP_DIRECTIVES },
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: { maxAge: 365 * 24 * 3600, includeSubDomains: false },
};
