/**
 * RFC 9110 §10.2.3: Retry-After is either delay-seconds or an HTTP-date. Unparseable or absent means the default;
 * the result is clamped so a hostile or broken header cannot park a provider for days.
 */
export function retryAfterMs(
  header: string | undefined,
  now: number,
  policy: { defaultMs: number; maxMs: number; minMs?: number },
): number {
  const min = policy.minMs ?? 1_000;
  const clamp = (ms: number) => Math.min(policy.maxMs, Math.max(min, ms));
  if (header === undefined || header.trim() === '') return clamp(policy.defaultMs);
  const text = header.trim();
  if (/^\d+$/.test(text)) return clamp(Number(text) * 1_000);
  // Date.parse reads "1.5" or "-1" as dates; an HTTP-date always names its day and month, so it has letters.
  const date = /[A-Za-z]/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(date)) return clamp(policy.defaultMs);
  return clamp(date - now);
}
