import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import type { Redis } from 'ioredis';
import type postgres from 'postgres';
import { parentPid, type ServicePids } from './cpu-sampler.ts';

export interface Machine {
  date: string;
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  redis: string;
  pgbench: string | null;
  /** 1-minute load average when the run started: the machine is shared, so this says how quiet it was. */
  loadAverageAtStart: number;
}

export async function describeMachine(sql: postgres.Sql, redis: Redis): Promise<Machine> {
  const [pg] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
  const settings = await sql<{ name: string; setting: string; unit: string | null }[]>`
    select name, setting, unit from pg_settings
    where name in ('shared_buffers', 'synchronous_commit', 'fsync', 'wal_sync_method', 'max_connections',
                   'shared_preload_libraries', 'commit_delay')`;
  const info = await redis.info('server');
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    postgres: pg?.version ?? 'unknown',
    postgresSettings: Object.fromEntries(settings.map((s) => [s.name, s.unit ? `${s.setting} ${s.unit}` : s.setting])),
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    pgbench: pgbenchVersion(),
    loadAverageAtStart: Math.round(loadavg()[0]! * 100) / 100,
  };
}

export function pgbenchVersion(): string | null {
  try {
    return execFileSync('pgbench', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** The pids of our Postgres postmaster and Redis server, when they run on this machine. */
export async function servicePids(sql: postgres.Sql, redis: Redis): Promise<ServicePids> {
  const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const info = await redis.info('server');
  const redisPid = Number(/process_id:(\d+)/.exec(info)?.[1] ?? NaN);
  const postmaster = row ? parentPid(row.pid) : null;
  return { postmaster, redis: Number.isFinite(redisPid) && parentPid(redisPid) !== null ? redisPid : null };
}
