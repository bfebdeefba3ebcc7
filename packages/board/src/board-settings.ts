import { isIP } from 'node:net';
import { ConfigError, type InputIssue } from '@evergreen/core';

/** What the board reads from the environment beyond the shared configuration (EVERGREEN_BOARD_*, EVERGREEN_ADMIN_*). */
export interface BoardSettings {
  port: number;
  host: string;
  auth: BoardAuth;
  readOnly: boolean;
  /** EVERGREEN_BOARD_DEV: allows running without credentials, on a loopback host only. */
  dev: boolean;
}

export interface BoardAuth {
  /** `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** `Authorization: Basic`, for browsers. Both or neither. */
  user?: string | undefined;
  password?: string | undefined;
}

export const MIN_TOKEN_LENGTH = 16;
export const MIN_PASSWORD_LENGTH = 8;

type Env = Readonly<Record<string, string | undefined>>;

const value = (env: Env, name: string) => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

function boolean(env: Env, name: string, issues: InputIssue[]): boolean {
  const v = value(env, name);
  if (v === undefined) return false;
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  issues.push({ field: name, reason: 'must be true or false' });
  return false;
}

/** Reads the board's variables; every problem is named in one ConfigError. Never echoes a secret. */
export function readBoardSettings(env: Env = process.env): BoardSettings {
  const issues: InputIssue[] = [];
  const portText = value(env, 'EVERGREEN_BOARD_PORT') ?? '3000';
  const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    issues.push({ field: 'EVERGREEN_BOARD_PORT', reason: 'must be a port number, 0-65535' });
  }
  const host = value(env, 'EVERGREEN_BOARD_HOST') ?? '127.0.0.1';
  const auth: BoardAuth = {
    token: env.EVERGREEN_ADMIN_TOKEN || undefined,
    user: env.EVERGREEN_ADMIN_USER || undefined,
    password: env.EVERGREEN_ADMIN_PASSWORD || undefined,
  };
  const readOnly = boolean(env, 'EVERGREEN_BOARD_READ_ONLY', issues);
  const dev = boolean(env, 'EVERGREEN_BOARD_DEV', issues);
  issues.push(...authIssues(auth));
  if (issues.length > 0) throw new ConfigError(issues);
  return { port, host, auth, readOnly, dev };
}

/** Problems with the credentials given; an absence of credentials is judged by `assertCanStart`. */
export function authIssues(auth: BoardAuth): InputIssue[] {
  const issues: InputIssue[] = [];
  if (auth.token !== undefined && auth.token.length < MIN_TOKEN_LENGTH) {
    issues.push({
      field: 'EVERGREEN_ADMIN_TOKEN',
      reason: `must be at least ${MIN_TOKEN_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`,
    });
  }
  if ((auth.user === undefined) !== (auth.password === undefined)) {
    issues.push({
      field: auth.user === undefined ? 'EVERGREEN_ADMIN_USER' : 'EVERGREEN_ADMIN_PASSWORD',
      reason: 'EVERGREEN_ADMIN_USER and EVERGREEN_ADMIN_PASSWORD go together: set both or neither',
    });
  }
  if (auth.user !== undefined && auth.user.includes(':')) {
    issues.push({ field: 'EVERGREEN_ADMIN_USER', reason: 'must not contain ":" (HTTP Basic separates on it)' });
  }
  if (auth.password !== undefined && auth.password.length < MIN_PASSWORD_LENGTH) {
    issues.push({ field: 'EVERGREEN_ADMIN_PASSWORD', reason: `must be at least ${MIN_PASSWORD_LENGTH} characters` });
  }
  return issues;
}

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
  const issues = authIssues(auth);
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
