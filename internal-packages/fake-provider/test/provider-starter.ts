import { afterEach } from 'vitest';
import { FakeProvider, type FakeProviderOptions } from '../src/index.ts';

/** A `start` for one test file: each provider it starts is closed after the test that started it. */
export function providerStarter(): (options?: FakeProviderOptions) => Promise<FakeProvider> {
  const started: FakeProvider[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((provider) => provider.close()));
  });
  return async (options) => {
    const provider = await FakeProvider.start(options);
    started.push(provider);
    return provider;
  };
}
