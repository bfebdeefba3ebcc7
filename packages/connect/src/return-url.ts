/**
 * Whether `returnTo` is on the allow-list (EVERGREEN_CONNECT_RETURN_URLS): an absolute http(s) URL with the same
 * origin as an entry and a path under the entry's path, compared on parsed URLs so that neither
 * `https://app.example.com.evil.com` nor `https://app.example.com@evil.com` passes for `https://app.example.com`.
 * No open redirect (issue 17). Pure.
 */
export function returnUrlProblem(returnTo: string, allowed: readonly string[]): string | null {
  let url: URL;
  try {
    url = new URL(returnTo);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (allowed.length === 0) return 'is not allowed: EVERGREEN_CONNECT_RETURN_URLS is empty';
  return allowed.some((entry) => underEntry(url, entry))
    ? null
    : 'is not allowed: it must start with an entry of EVERGREEN_CONNECT_RETURN_URLS';
}

function underEntry(url: URL, entry: string): boolean {
  let prefix: URL;
  try {
    prefix = new URL(entry);
  } catch {
    return false;
  }
  if (url.origin !== prefix.origin) return false;
  const base = prefix.pathname;
  if (base === '/' || url.pathname === base) return true;
  // A path prefix matches at a segment boundary: /app allows /app and /app/x, never /application.
  return url.pathname.startsWith(base.endsWith('/') ? base : `${base}/`);
}

/** `returnTo` with the callback's answer added to its query (whatever query the app put there stays). */
export function withResult(returnTo: string, result: Record<string, string>): string {
  const url = new URL(returnTo);
  for (const [name, value] of Object.entries(result)) url.searchParams.set(name, value);
  return url.href;
}
