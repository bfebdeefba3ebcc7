import { isProviderEvent, type ConnectionEvent } from '@evergreen/sdk';
import { DEMO_CONNECTIONS, DEMO_PROVIDERS, DEMO_USER } from './demo-catalogue.ts';
import type { DemoOptions } from './demo-options.ts';

export interface BannerInput {
  options: DemoOptions;
  boardPort: string;
  opsPort: number;
  adminToken: string;
}

/** What the demo prints once it runs: where to look and how to get in. The demo's test reads the last two URLs. */
export function banner({ options, boardPort, opsPort, adminToken }: BannerInput): string {
  const host = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  const base = `http://${host}:${boardPort}`;
  return (
    [
      '',
      `Evergreen demo: ${DEMO_PROVIDERS.length} demo providers on 127.0.0.1, ${DEMO_CONNECTIONS.length} connections with 30-60 s tokens`,
      `(schema ${options.schema}, Redis prefix ${options.prefix}: wiped at every start; your \`pnpm start\` data is untouched)`,
      '',
      `  token health   ${base}/          user ${DEMO_USER}, password = the admin token`,
      `  Bull Board     ${base}/board`,
      `  operator API   ${base}/api       Authorization: Bearer <admin token>`,
      `  metrics        http://${host}:${opsPort}/metrics`,
      `  admin token    ${adminToken}`,
      '',
      `The first refreshes land within a minute; one connection's grant was revoked and ends in needs_reauth.`,
      `Ctrl-C stops the demo.`,
      '',
    ].join('\n') + '\n'
  );
}

/** One line per connection event, as the demo prints them. */
export function eventLine(event: ConnectionEvent): string {
  const time = new Date(event.createdAt).toISOString().slice(11, 19);
  if (isProviderEvent(event)) {
    return `${time}  ${event.kind.replace('provider.', '').padEnd(14)} ${event.data.provider}  ${event.data.reason ?? ''}\n`;
  }
  const { connectionId, provider, reason, expiresAt } = event.data;
  const what = event.kind.replace('connection.', '');
  const detail =
    event.kind === 'connection.refreshed' && expiresAt
      ? `new token valid until ${new Date(expiresAt).toISOString().slice(11, 19)}`
      : (reason ?? '');
  return `${time}  ${what.padEnd(14)} ${connectionId} (${provider})  ${detail}\n`;
}
