import { createServer, type Server, type Socket } from 'node:net';
import { ConfigError, InvalidInputError } from '@evergreen/core';
import { FakeProvider } from '@evergreen/fake-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';

/**
 * Issue 15, finding 3: a token URL whose host comes from connection metadata must never send a refresh token and the
 * client secret to a host the operator did not allow. The "internal service" here is a TCP listener on 127.0.0.1 that
 * records every connection made to it, so even a refused TLS handshake would show.
 */
class Recorder {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  connections = 0;

  private constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket) => {
      this.connections += 1;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {});
    });
  }

  static async start(): Promise<Recorder> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new Recorder(server);
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

describe('token URLs whose host comes from metadata (issue 15, finding 3)', () => {
  let recorder: Recorder;

  beforeAll(async () => {
    recorder = await Recorder.start();
  });

  afterAll(async () => {
    await recorder?.close();
  });

  it('an entry that takes its host from metadata without tokenUrlHosts stops start-up, naming the entry and field', async () => {
    const sandbox = new Sandbox();
    const internal = await Recorder.start();
    try {
      sandbox.useProviders([{ id: 'idp', tokenUrl: `https://{idp_domain}:${internal.port}/oauth2/v1/token` }]);
      const started = await startStack(sandbox, { roles: ['worker'] }).then(
        (stack) => ({ stack, error: null }),
        (error: unknown) => ({ stack: null, error }),
      );
      if (started.stack) {
        // The hole this closes: such an entry loaded, and metadata chose where the secrets went.
        await started.stack.evergreen.enqueueConnection({
          ownerId: 'o',
          provider: 'idp',
          accessToken: 'at',
          refreshToken: 'rt',
          expiresIn: 0,
          metadata: { idp_domain: '127.0.0.1' },
        });
        await until(() => internal.connections > 0, { timeoutMs: 10_000 }).catch(() => {});
        await started.stack.close();
      }
      expect(internal.connections).toBe(0);
      expect(started.error).toBeInstanceOf(ConfigError);
      expect((started.error as ConfigError).issues.map((i) => i.field.replace(/^.*\[0\]/, '[0]'))).toEqual([
        '[0] (idp).tokenUrlHosts',
      ]);
    } finally {
      await internal.close();
      await sandbox.cleanup();
    }
  });

  describe('with an allow-list', () => {
    const sandbox = new Sandbox();
    let stack: Stack;
    let provider: FakeProvider;

    beforeAll(async () => {
      // The provider's own answers name the host of the next refresh (as Salesforce's instance_url does); this one
      // names an internal address, as a compromised or spoofed answer could.
      provider = await FakeProvider.start({
        rotation: 'never',
        extraResponse: { instance_url: `http://127.0.0.1:${recorder.port}` },
      });
      sandbox.useProviders([
        {
          id: 'moving',
          tokenUrl: '{instance_url}/token',
          tokenUrlHosts: ['localhost'],
          response: { metadata: { instance_url: 'instance_url' } },
        },
      ]);
      stack = await startStack(sandbox, { roles: ['worker'] });
    });

    afterAll(async () => {
      await stack?.close();
      await provider?.close();
      await sandbox.cleanup();
    });

    it('enqueueConnection() refuses metadata that points the token URL at an internal address; nothing is sent', async () => {
      for (const instance_url of [
        `http://127.0.0.1:${recorder.port}`,
        `http://2130706433:${recorder.port}`,
        `http://[::ffff:127.0.0.1]:${recorder.port}`,
        `http://0x7f.1:${recorder.port}`,
      ]) {
        const error = await stack.evergreen
          .enqueueConnection({
            ownerId: 'owner-direct',
            provider: 'moving',
            accessToken: 'at',
            refreshToken: 'rt',
            expiresIn: 0,
            metadata: { instance_url },
          })
          .catch((e: unknown) => e);
        expect(error, instance_url).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).field).toMatch(/^metadata/);
      }
      expect(recorder.connections).toBe(0);
    });

    it('an answer that moves the host to an internal address ends the connection in error (invalid_token_url), sending nothing there', async () => {
      const { grant, connectionId } = await stack.connect(provider, {
        ownerId: 'owner-moved',
        provider: 'moving',
        expiresIn: 2,
        metadata: { instance_url: `http://localhost:${new URL(provider.url).port}` },
      });
      // The first refresh goes to the allowed host, and its answer moves instance_url to the recorder.
      await until(
        async () => (await stack.read(connectionId))?.metadata.instance_url === `http://127.0.0.1:${recorder.port}`,
        { timeoutMs: 20_000, what: 'the first refresh' },
      );
      // The worker that wrote that answer may still hold the connection's lock: forceRefresh asks until a run happened.
      await stack.forceRefresh(connectionId);
      const row = await stack.waitForStatus(connectionId, 'error', {
        timeoutMs: 20_000,
        what: 'the connection to end in error',
      });
      expect(row.lastRefreshReason).toBe('invalid_token_url');
      expect(row.refreshToken).toBe(grant.refreshToken);
      expect(recorder.connections).toBe(0);
      expect(provider.grant(grant.grantId)!.refreshCount).toBe(1);
    });
  });
});
