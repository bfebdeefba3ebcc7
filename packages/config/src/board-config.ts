import type { InputIssue } from '@evergreen/core';

/** The board's settings (EVERGREEN_BOARD_*, EVERGREEN_ADMIN_*). */
export interface BoardConfig {
  port: number;
  host: string;
  auth: BoardAuth;
  /** Shows, never acts: every mutation is refused (405). */
  readOnly: boolean;
  /** Allows running without credentials, on a loopback host only. */
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
export const MIN_PASSWORD_LENGTH = 16;

/**
 * The credentials exactly as given: unlike other variables they are not trimmed, since a password may begin or end with
 * a space. Empty means unset.
 */
export function readBoardAuth(env: Readonly<Record<string, string | undefined>>): BoardAuth {
  return {
    token: env.EVERGREEN_ADMIN_TOKEN || undefined,
    user: env.EVERGREEN_ADMIN_USER || undefined,
    password: env.EVERGREEN_ADMIN_PASSWORD || undefined,
  };
}

/**
 * Problems with the credentials given, never echoing them. Only a process that runs the board is held to these: the
 * other roles share its environment (one Secret in infra/k8s) without using the credentials. An absence of
 * credentials is the board's own call (`assertCanStart`: allowed in dev mode on a loopback host).
 */
export function boardAuthIssues(auth: BoardAuth): InputIssue[] {
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
