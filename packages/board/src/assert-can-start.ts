import { isIP } from 'node:net';
import { boardAuthIssues, type BoardAuth } from '@evergreen/config';
import { ConfigError } from '@evergreen/core';

export function hasCredentials(auth: BoardAuth): boolean {
  return auth.token !== undefined || (auth.user !== undefined && auth.password !== undefined);
}

/** 127.0.0.0/8, ::1, localhost (and IPv4-mapped loopback): the only hosts a credential-less dev board may bind. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * Refuses a board anyone could use: without credentials it only starts with EVERGREEN_BOARD_DEV=true on a loopback
 * host. Credentials that are present must also be well-formed.
 */
export function assertCanStart(auth: BoardAuth, host: string, dev: boolean): void {
  const issues = boardAuthIssues(auth);
  if (issues.length > 0) throw new ConfigError(issues);
  if (hasCredentials(auth)) return;
  if (dev && isLoopbackHost(host)) return;
  throw new ConfigError([
    {
      field: 'EVERGREEN_ADMIN_TOKEN',
      reason: dev
        ? `is required: EVERGREEN_BOARD_DEV=true allows no credentials only on a loopback host, not on '${host}'`
        : 'is required (or EVERGREEN_ADMIN_USER and EVERGREEN_ADMIN_PASSWORD): the board exposes every connection ' +
          'and its jobs; for local development only, EVERGREEN_BOARD_DEV=true on a loopback host runs without',
    },
  ]);
}
