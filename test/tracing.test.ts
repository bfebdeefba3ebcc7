import { FakeProvider } from '@evergreen/fake-provider';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';

describe('OpenTelemetry traces of a refresh', () => {
  const sandbox = new Sandbox();
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let fake: FakeProvider;
  let stack: Stack;

  beforeAll(async () => {
    // What EVERGREEN_OTEL_EXPORTER_URL does, with an in-memory exporter in place of OTLP.
    trace.setGlobalTracerProvider(provider);
    fake = await FakeProvider.start();
    sandbox.useProviders([{ id: 'acme', tokenUrl: fake.tokenUrl }]);
    stack = await startStack(sandbox);
  });

  afterAll(async () => {
    await stack?.close();
    await fake?.close();
    await provider.shutdown();
    trace.disable();
    await sandbox.cleanup();
  });

  it('are off unless a tracer provider is registered, and then record each refresh without secrets', async () => {
    const grant = fake.issue();
    const { connectionId } = await stack.evergreen.enqueueConnection({
      ownerId: 'traced-owner',
      provider: 'acme',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: 3600,
    });
    await stack.evergreen.forceRefresh(connectionId);
    const spans = exporter.getFinishedSpans().filter((s) => s.name === 'evergreen.refresh');
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes).toMatchObject({
      'evergreen.connection_id': connectionId,
      'evergreen.trigger': 'forced',
      'evergreen.provider': 'acme',
      'evergreen.outcome': 'success',
      'http.response.status_code': 200,
      'evergreen.decision': 'delay',
    });
    const everything = JSON.stringify(spans.map((s) => s.attributes));
    for (const token of fake.allIssuedTokens()) expect(everything.includes(token)).toBe(false);
    expect(everything).not.toContain('traced-owner');
  });
});
