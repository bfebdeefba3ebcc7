/**
 * Searches text for tokens. Every token the fake providers mint starts with `at_` or `rt_` followed by base64url, so
 * a scan pulls every such run out of the text and looks it up in the set of issued tokens: linear in the text,
 * whatever the number of tokens. Anything token-shaped that was never issued is reported too (it would mean a token
 * was mangled on its way into the text, which is no better).
 */
const TOKEN_SHAPE = /(?:at|rt)_[A-Za-z0-9_-]{16,}/g;

export interface SecretHit {
  source: string;
  /** The first characters only: the report must not become a leak itself. */
  preview: string;
  issued: boolean;
}

export class SecretScanner {
  readonly #tokens: ReadonlySet<string>;
  readonly hits: SecretHit[] = [];
  readonly scanned: Map<string, number> = new Map();

  constructor(tokens: Iterable<string>) {
    this.#tokens = new Set(tokens);
  }

  scan(source: string, text: string): void {
    const kind = source.split(':')[0]!;
    this.scanned.set(kind, (this.scanned.get(kind) ?? 0) + text.length);
    for (const match of text.matchAll(TOKEN_SHAPE)) {
      // A run may have swallowed trailing token characters; an issued token is a prefix of it.
      const found = match[0];
      const issued = this.#tokens.has(found) || [...prefixesOf(found)].some((p) => this.#tokens.has(p));
      this.hits.push({ source, preview: `${found.slice(0, 6)}…`, issued });
    }
  }
}

function* prefixesOf(text: string): Generator<string> {
  // Issued tokens are `at_`/`rt_` + 43 base64url characters (32 random bytes).
  for (let length = 46; length < text.length; length++) yield text.slice(0, length);
}
