import { FakeProvider, type FakeProviderOptions } from '@evergreen/fake-provider';
import type { Role } from '@evergreen/runtime';
import type { Sandbox } from './sandbox.ts';
import { startStack, type Stack } from './stack.ts';

/** A sandbox, one fake provider in its providers file, and a stack over both: where most end-to-end files start. */
export interface ProviderStack {
  readonly sandbox: Sandbox;
  readonly provider: FakeProvider;
  readonly stack: Stack;
  /** Stops the stack, then the provider, then drops the sandbox. */
  close(): Promise<void>;
}

export interface ProviderStackOptions {
  /** The provider's id in the providers file: `acme` when not given. */
  id?: string;
  provider?: FakeProviderOptions;
  /** Roles run in this process; none (a producer only) when not given. */
  roles?: Role[];
}

/** Takes over `sandbox`: its `close()`, or a failed start, drops it. */
export async function startProviderStack(sandbox: Sandbox, options: ProviderStackOptions = {}): Promise<ProviderStack> {
  const provider = await FakeProvider.start(options.provider);
  let stack: Stack;
  try {
    sandbox.useProviders([{ id: options.id ?? 'acme', tokenUrl: provider.tokenUrl }]);
    stack = await startStack(sandbox, options.roles ? { roles: options.roles } : {});
  } catch (error) {
    await provider.close();
    await sandbox.cleanup();
    throw error;
  }
  return {
    sandbox,
    provider,
    stack,
    close: async () => {
      await stack.close();
      await provider.close();
      await sandbox.cleanup();
    },
  };
}
