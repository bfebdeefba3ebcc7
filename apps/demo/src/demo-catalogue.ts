/** The board's basic-auth user; the password is the admin token the demo prints. */
export const DEMO_USER = 'demo';

/** The demo's providers: each one a fake token endpoint with its own client and token lifetime. */
export const DEMO_PROVIDERS = [
  { id: 'acme', clientAuth: 'client_secret_basic', lifetimeSeconds: 45, rotation: 'always' },
  { id: 'globex', clientAuth: 'client_secret_post', lifetimeSeconds: 60, rotation: 'never' },
] as const;

/** Eight connections, 30–60 s tokens; `revoked` has a grant the provider no longer honours (→ needs_reauth). */
export const DEMO_CONNECTIONS = [
  { provider: 'acme', owner: 'ada', expiresIn: 30 },
  { provider: 'acme', owner: 'grace', expiresIn: 35 },
  { provider: 'acme', owner: 'alan', expiresIn: 40 },
  { provider: 'acme', owner: 'edsger', expiresIn: 45 },
  { provider: 'globex', owner: 'barbara', expiresIn: 50 },
  { provider: 'globex', owner: 'donald', expiresIn: 55 },
  { provider: 'globex', owner: 'margaret', expiresIn: 60 },
  { provider: 'globex', owner: 'ken', expiresIn: 40, revoked: true },
] as const;
