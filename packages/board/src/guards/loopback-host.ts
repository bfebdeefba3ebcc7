import { isLoopbackHost } from '../assert-can-start.ts';

/**
 * Whether a request's Host header names a loopback host (localhost, 127.0.0.0/8, [::1]), with any port. A board
 * without credentials answers only these, so a page whose name a DNS-rebinding attacker pointed at 127.0.0.1 gets
 * nothing: its requests carry the attacker's name.
 */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  if (header === undefined || header === '') return false;
  let url: URL;
  try {
    url = new URL(`http://${header}`);
  } catch {
    return false;
  }
  // Anything beyond host[:port] (user info, a path) is not a Host header a browser sends.
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    return false;
  }
  return isLoopbackHost(url.hostname);
}
