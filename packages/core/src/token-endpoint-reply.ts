/** What came back from one request to a token endpoint, as plain data, so classification stays free of I/O. */
export type TokenEndpointReply =
  | {
      kind: 'response';
      status: number;
      /** Lower-cased header names. */
      headers: Readonly<Record<string, string | undefined>>;
      body: string;
      /** The body was cut at the size cap: it cannot be a valid token response. */
      truncated: boolean;
    }
  | {
      kind: 'network';
      /** A connect, header or body timeout, or the overall deadline. */
      timeout: boolean;
      /** A system error code such as ECONNREFUSED or ECONNRESET, when there is one. */
      code: string | null;
    };
