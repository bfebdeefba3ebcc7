import { Redis } from 'ioredis';
import postgres from 'postgres';

export interface Services {
  databaseUrl: string;
  redisUrl: string;
  /** Stops what this run started (testcontainers); nothing for services that were already there. */
  stop: () => Promise<void>;
}

const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Where the tests find Postgres and Redis: DATABASE_URL / REDIS_URL when set, else the local servers when they
 * answer, else containers started with testcontainers (for developers with Docker and no local services).
 */
export async function findServices(env: NodeJS.ProcessEnv = process.env): Promise<Services> {
  const stops: (() => Promise<void>)[] = [];
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    if (await postgresAnswers(LOCAL_DATABASE_URL)) databaseUrl = LOCAL_DATABASE_URL;
    else {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:16-alpine').withDatabase('test').start();
      databaseUrl = container.getConnectionUri();
      stops.push(async () => void (await container.stop()));
    }
  }
  let redisUrl = env.REDIS_URL;
  if (!redisUrl) {
    if (await redisAnswers(LOCAL_REDIS_URL)) redisUrl = LOCAL_REDIS_URL;
    else {
      const { RedisContainer } = await import('@testcontainers/redis');
      const container = await new RedisContainer('redis:7-alpine').start();
      redisUrl = container.getConnectionUrl();
      stops.push(async () => void (await container.stop()));
    }
  }
  return { databaseUrl, redisUrl, stop: async () => void (await Promise.all(stops.map((s) => s()))) };
}

async function postgresAnswers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
