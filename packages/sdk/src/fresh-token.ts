/**
 * Whether `fn`'s result or error says "401": a fetch Response, an undici response (`statusCode`), an axios-style error
 * (`response.status`), or anything carrying `status: 401`.
 */
export function isUnauthorized(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { status?: unknown; statusCode?: unknown; response?: { status?: unknown; statusCode?: unknown } };
  return v.status === 401 || v.statusCode === 401 || v.response?.status === 401 || v.response?.statusCode === 401;
}
