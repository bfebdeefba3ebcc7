import { FakeProvider } from '@evergreen/fake-provider';

/** One provider of the chaos run: a real local token endpoint and the providers-file entry that points at it. */
export interface ChaosProvider {
  id: string;
  fake: FakeProvider;
  lifetimeMs: number;
  rateLimit: { max: number; durationMs: number } | null;
  /** Strictly single-use rotation without a grace period: only with --strict-provider. */
  strict: boolean;
  /** Receives 429 storms. */
  limited: boolean;
  entry: Record<string, unknown>;
}

interface Shape {
  id: string;
  lifetimeSeconds: number;
  rotation: 'always' | 'never' | 'alternate';
  graceSeconds: number;
  clientAuth: 'client_secret_basic' | 'client_secret_post';
  limited?: boolean;
  strict?: boolean;
}

/**
 * Lifetimes of two to three minutes, so the refresh buffer (half of it: a minute or more) stays about three times
 * the longest pile-up of faults the plan produces (a fault window, a Redis flush, a Postgres crash and a killed
 * worker within a few seconds of each other have cost 25 s): production's 5-minute buffer on hour-long tokens keeps a
 * similar ratio to its own recovery times. A 60-second lifetime lost tokens to such pile-ups alone.
 *
 * Several providers bending the protocol differently: rotation with a grace period (Okta, Auth0, Xero), none
 * (Google), every other refresh (Spotify), and one that rate-limits its token endpoint and answers 429 storms.
 * Every rotating one revokes the whole grant when a replaced refresh token is presented outside its grace period.
 */
const SHAPES: Shape[] = [
  { id: 'chaos-grace', lifetimeSeconds: 120, rotation: 'always', graceSeconds: 60, clientAuth: 'client_secret_basic' },
  { id: 'chaos-static', lifetimeSeconds: 180, rotation: 'never', graceSeconds: 0, clientAuth: 'client_secret_post' },
  {
    id: 'chaos-alternate',
    lifetimeSeconds: 150,
    rotation: 'alternate',
    graceSeconds: 60,
    clientAuth: 'client_secret_basic',
  },
  {
    id: 'chaos-limited',
    lifetimeSeconds: 160,
    rotation: 'always',
    graceSeconds: 60,
    clientAuth: 'client_secret_post',
    limited: true,
  },
];

const STRICT: Shape = {
  id: 'chaos-strict',
  lifetimeSeconds: 120,
  rotation: 'always',
  graceSeconds: 0,
  clientAuth: 'client_secret_basic',
  strict: true,
};

export async function startChaosProviders(options: {
  connections: number;
  strictProvider: boolean;
}): Promise<ChaosProvider[]> {
  const shapes = options.strictProvider ? [...SHAPES, STRICT] : SHAPES;
  const perProvider = Math.ceil(options.connections / shapes.length);
  // Lifetimes grow with the run's size so the refresh rate stays near 30 per second, which this kind of machine (2
  // cores running every process, Postgres and Redis) sustains under chaos with room for catching up: a long run at
  // 2-minute lifetimes asked for about 65 a second, fell a thousand refreshes behind, and lost tokens to the backlog
  // rather than to any fault. The listed lifetimes are the floor (1,000 connections).
  const scale = Math.max(1, options.connections / 30 / (120 / 2));
  return Promise.all(
    shapes.map(async (shape) => {
      const lifetimeSeconds = Math.round(shape.lifetimeSeconds * scale);
      const fake = await FakeProvider.start({
        clientId: `${shape.id}-client`,
        clientSecret: `${shape.id}-secret`,
        clientAuth: shape.clientAuth,
        accessTokenLifetimeSeconds: lifetimeSeconds,
        rotation: shape.rotation,
        reuseGraceSeconds: shape.graceSeconds,
        revokeOnReuse: true,
        latencyMs: 40,
      });
      // Four times the steady rate (a refresh per connection per half lifetime): room for the first refreshes, which
      // the enqueue packs into a quarter lifetime, and for catching up after an outage, so the cap binds in bursts
      // only. A cap below the demand makes tokens expire by arithmetic, whatever the scheduler does.
      const rateLimit = shape.limited
        ? { max: Math.max(10, Math.ceil((4 * perProvider) / (lifetimeSeconds / 2))), durationMs: 1_000 }
        : null;
      const entry: Record<string, unknown> = {
        id: shape.id,
        tokenUrl: fake.tokenUrl,
        clientId: `${shape.id}-client`,
        clientSecret: `${shape.id}-secret`,
        clientAuth: shape.clientAuth,
        rotation: {
          rotates: shape.rotation === 'never' ? 'never' : shape.rotation === 'always' ? 'always' : 'sometimes',
          graceSeconds: shape.graceSeconds,
        },
        ...(rateLimit && { rateLimit }),
      };
      return {
        id: shape.id,
        fake,
        lifetimeMs: lifetimeSeconds * 1_000,
        rateLimit,
        strict: shape.strict === true,
        limited: shape.limited === true,
        entry,
      };
    }),
  );
}
