import Fastify from 'fastify';
import postgres from 'postgres';

/**
 * The floor under the api's token route, as its own process: a minimal Fastify server whose route on the same path
 * runs the same primary-key SELECT through postgres.js (a pool of `EVERGREEN_DB_POOL_SIZE`, as the api role has) and
 * returns the row as JSON. No auth, no decryption, no audit line: what any HTTP service that reads a row pays.
 * Configured by the environment like a role; logs `api listening` and `started` as JSON lines, as the roles do.
 */
const env = process.env;
const sql = postgres(env.DATABASE_URL ?? '', {
  max: Number(env.EVERGREEN_DB_POOL_SIZE ?? 8),
  connection: { search_path: env.EVERGREEN_DB_SCHEMA ?? 'public' },
  onnotice: () => {},
  fetch_types: false,
});
const app = Fastify({ logger: false });
app.get<{ Params: { id: string } }>('/v1/connections/:id/token', async (request, reply) => {
  const [row] = await sql`select * from connections where id = ${request.params.id}`;
  if (!row) return reply.code(404).send({ code: 'ERR_CONNECTION_NOT_FOUND' });
  return row;
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
const line = (msg: string, extra: object = {}) =>
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), ...extra, msg })}\n`);
line('api listening', { address });
line('started');

const stop = async () => {
  await app.close();
  await sql.end({ timeout: 2 });
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
