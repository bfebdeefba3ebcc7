import type { TestProject } from 'vitest/node';
import { findServices } from './services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

/** Finds (or starts) Postgres and Redis once per run and hands their URLs to every test file. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await findServices();
  project.provide('databaseUrl', services.databaseUrl);
  project.provide('redisUrl', services.redisUrl);
  return services.stop;
}
