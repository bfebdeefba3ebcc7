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
  /** The entry names the provider's revocation endpoint (RFC 7009). */
  revokes?: boolean;
}

/** Takes over `sandbox`: its `close()`, or a failed start, drops it. */
export async function startProviderStack(sandbox: Sandbox, options: ProviderStackOptions = {}): Promise<ProviderStack> {
  const provider = await FakeProvider.start(options.provider);
  let stack: Stack;
  try {
    sandbox.useProviders([
      {
        id: options.id ?? 'acme',
        tokenUrl: provider.tokenUrl,
        ...(options.revokes && { revocationUrl: provider.revocationUrl }),
      },
    ]);
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

/**
 * A sandbox with two fake providers, `acme` and `beta`, in its providers file, and a stack over them (no roles: a
 * producer only, refreshes on demand or forced), connected to Redis: what the board's and the api's fixtures build on.
 */
export interface TwoProviderStack {
  readonly sandbox: Sandbox;
  readonly acme: FakeProvider;
  readonly beta: FakeProvider;
  readonly stack: Stack;
  /** Stops the stack, then both providers, then drops the sandbox. */
  close(): Promise<void>;
}

/** `acmeRevokes`: acme's entry has its revocation endpoint (RFC 7009); beta never has one. */
export async function startTwoProviderStack(
  sandbox: Sandbox,
  options: { acmeRevokes?: boolean } = {},
): Promise<TwoProviderStack> {
  const acme = await FakeProvider.start({ accessTokenLifetimeSeconds: 3600 });
  const beta = await FakeProvider.start({ accessTokenLifetimeSeconds: 3600 });
  sandbox.useProviders([
    { id: 'acme', tokenUrl: acme.tokenUrl, ...(options.acmeRevokes && { revocationUrl: acme.revocationUrl }) },
    { id: 'beta', tokenUrl: beta.tokenUrl },
  ]);
  const stack = await startStack(sandbox);
  await stack.parts.producer.firstConnection;
  return {
    sandbox,
    acme,
    beta,
    stack,
    close: async () => {
      await stack.close();
      await Promise.all([acme.close(), beta.close()]);
      await sandbox.cleanup();
    },
  };
}
