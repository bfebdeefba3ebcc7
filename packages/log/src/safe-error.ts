/**
 * What an error may say in a log line: its class, its code, and a message that cannot carry row data. Drizzle's
 * "Failed query" messages append the statement's parameters (ciphertexts, owner ids), so for those the underlying
 * driver error speaks instead.
 */
export function safeError(error: unknown): { type: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { type: typeof error, message: 'non-error thrown' };
  const cause = (error as { cause?: unknown }).cause;
  const wrapped = error.message.startsWith('Failed query') && cause instanceof Error;
  const source = wrapped ? cause : error;
  const code = (source as { code?: unknown }).code;
  return {
    type: source.name,
    ...(typeof code === 'string' && { code }),
    message: wrapped || !error.message.includes('params:') ? source.message.slice(0, 300) : 'query failed',
  };
}
