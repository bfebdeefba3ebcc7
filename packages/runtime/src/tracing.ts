import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/**
 * Off by default: with no endpoint, no tracer provider is registered and every span is a no-op. With one, refresh
 * spans go to that OTLP/HTTP collector (`.../v1/traces`); the service name comes from OTEL_SERVICE_NAME, as usual.
 */
export function startTracing(endpoint: string | null): (() => Promise<void>) | null {
  if (endpoint === null) return null;
  const provider = new NodeTracerProvider({
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }))],
  });
  // register() also installs the async context manager that lets a span follow the refresh through its awaits.
  provider.register();
  return () => provider.shutdown();
}
