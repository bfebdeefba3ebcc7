/**
 * Every environment variable Evergreen reads, with its default and meaning. The config schema is built from this
 * list and a test checks that the README's table names each one, so the documentation cannot drift.
 */
export interface VariableSpec {
  name: string;
  kind: 'string' | 'url' | 'int' | 'number' | 'boolean' | 'level';
  default: string | null;
  description: string;
  /** Inclusive bounds for numbers. */
  min?: number;
  max?: number;
}

const S = 1_000;
const MIN = 60 * S;

export const VARIABLES = [
  {
    name: 'DATABASE_URL',
    kind: 'url',
    default: 'postgres://postgres@127.0.0.1:5432/postgres',
    description: 'Postgres, the durable truth.',
  },
  {
    name: 'EVERGREEN_DB_SCHEMA',
    kind: 'string',
    default: 'evergreen',
    description: "Schema holding Evergreen's tables.",
  },
  {
    name: 'EVERGREEN_DB_POOL_SIZE',
    kind: 'int',
    default: '8',
    min: 1,
    max: 100,
    description:
      'Postgres connections per process (worker, scheduler, an app using the SDK). Queries are pipelined on each; more connections add WAL contention, not refreshes (docs/benchmarks).',
  },
  {
    name: 'EVERGREEN_DATABASE_POOL_MODE',
    kind: 'string',
    default: 'session',
    description:
      "`transaction` when DATABASE_URL is a transaction pooler (PgBouncer `pool_mode = transaction`): no prepared statements, no `search_path` sent (the role's server-side search_path must be EVERGREEN_DB_SCHEMA; checked at start), and migrations and `subscribe` over EVERGREEN_DATABASE_DIRECT_URL (docs/pgbouncer.md).",
  },
  {
    name: 'EVERGREEN_DATABASE_DIRECT_URL',
    kind: 'url',
    default: null,
    description:
      'A direct connection to the same database, for what needs a session: migrations (an advisory lock) and `subscribe` (LISTEN). Required with EVERGREEN_DATABASE_POOL_MODE=transaction; otherwise DATABASE_URL.',
  },
  {
    name: 'REDIS_URL',
    kind: 'url',
    default: 'redis://127.0.0.1:6379',
    description: 'Redis, for schedule state and locks only.',
  },
  {
    name: 'EVERGREEN_REDIS_PREFIX',
    kind: 'string',
    default: 'evergreen',
    description: 'Prefix of every Redis key Evergreen writes.',
  },
  {
    name: 'REDIS_USERNAME',
    kind: 'string',
    default: null,
    description: "Redis ACL user of the data nodes, with REDIS_PASSWORD (overrides REDIS_URL's user).",
  },
  {
    name: 'REDIS_PASSWORD',
    kind: 'string',
    default: null,
    description:
      "Password of the data nodes (primaries and replicas) under Sentinel or Cluster; overrides REDIS_URL's password.",
  },
  {
    name: 'REDIS_SENTINELS',
    kind: 'string',
    default: null,
    description:
      'Sentinel: `host:port,...` of the sentinels; the client asks them for the primary and follows a failover. REDIS_URL is then unused. Needs REDIS_SENTINEL_NAME (docs/redis.md).',
  },
  {
    name: 'REDIS_SENTINEL_NAME',
    kind: 'string',
    default: null,
    description: "Sentinel: the primary's name in the sentinels' configuration (`sentinel monitor <name> ...`).",
  },
  {
    name: 'REDIS_SENTINEL_PASSWORD',
    kind: 'string',
    default: null,
    description: "Sentinel: the sentinels' own password (their `requirepass`), if any.",
  },
  {
    name: 'REDIS_CLUSTER_NODES',
    kind: 'string',
    default: null,
    description:
      'Redis Cluster: `host:port,...` of some cluster nodes (the client discovers the rest). Each queue is hash-tagged into one slot; REDIS_URL is then unused (docs/redis.md).',
  },
  {
    name: 'EVERGREEN_QUEUE_SHARDS',
    kind: 'int',
    default: '1',
    min: 1,
    max: 256,
    description:
      "Queues per provider, connections split among them by id (a provider's `queueShards` overrides): spreads one large provider over a cluster's shards. The provider's rate limit holds across them.",
  },
  {
    name: 'EVERGREEN_ENCRYPTION_KEYS',
    kind: 'string',
    default: null,
    description:
      'Required. Comma-separated `id:base64` 32-byte keys; the first encrypts, all decrypt. `pnpm keygen` makes one.',
  },
  {
    name: 'EVERGREEN_PROVIDERS',
    kind: 'string',
    default: null,
    description: 'Path of the providers file (YAML or JSON); `${VAR}` in values is read from the environment.',
  },
  {
    name: 'EVERGREEN_OPS_PORT',
    kind: 'int',
    default: '9464',
    min: 0,
    max: 65535,
    description:
      'Every role serves /metrics, /healthz and /readyz on this port (0: any free port). No auth: keep it on the cluster network.',
  },
  {
    name: 'EVERGREEN_OPS_HOST',
    kind: 'string',
    default: '127.0.0.1',
    description: 'Address the ops port listens on (0.0.0.0 in a container: the image sets it, for probes and scrapes).',
  },
  // The board's settings (config.board); a process running the board also checks the credentials' form.
  {
    name: 'EVERGREEN_BOARD_PORT',
    kind: 'int',
    default: '3000',
    min: 0,
    max: 65535,
    description: 'Board: Bull Board at /board and the operator API at /api.',
  },
  {
    name: 'EVERGREEN_BOARD_HOST',
    kind: 'string',
    default: '127.0.0.1',
    description: 'Board: listen address (0.0.0.0 in a container).',
  },
  {
    name: 'EVERGREEN_ADMIN_TOKEN',
    kind: 'string',
    default: null,
    description:
      'Board: `Authorization: Bearer <token>` (16+ characters). Without it (or the basic pair) the board refuses to start.',
  },
  {
    name: 'EVERGREEN_ADMIN_USER',
    kind: 'string',
    default: null,
    description: 'Board: basic-auth user, for browsers; set with EVERGREEN_ADMIN_PASSWORD.',
  },
  {
    name: 'EVERGREEN_ADMIN_PASSWORD',
    kind: 'string',
    default: null,
    description:
      'Board: basic-auth password (16+ characters; failed logins are limited to 10 a minute per client address).',
  },
  {
    name: 'EVERGREEN_BOARD_READ_ONLY',
    kind: 'boolean',
    default: 'false',
    description:
      'Board: shows, never acts: the operator API and Bull Board refuse every change (405), the page offers none.',
  },
  {
    name: 'EVERGREEN_BOARD_DEV',
    kind: 'boolean',
    default: 'false',
    description: 'Board: allow no credentials, on a loopback host only (local development).',
  },
  // The api role's settings (config.api).
  {
    name: 'EVERGREEN_API_PORT',
    kind: 'int',
    default: '3100',
    min: 0,
    max: 65535,
    description: 'API: the token service, /v1 behind API keys (`Authorization: Bearer <key>`).',
  },
  {
    name: 'EVERGREEN_API_HOST',
    kind: 'string',
    default: '127.0.0.1',
    description: 'API: listen address (0.0.0.0 in a container: the image sets it).',
  },
  {
    name: 'EVERGREEN_API_RATE_LIMIT_PER_MINUTE',
    kind: 'int',
    default: '6000',
    min: 0,
    max: 10_000_000,
    description:
      'API: requests per minute per API key, shared by every api process through Redis (429 with Retry-After beyond it); 0: unlimited.',
  },
  {
    name: 'EVERGREEN_PUBLIC_URL',
    kind: 'url',
    default: null,
    description:
      "Connect flow: where browsers reach the api role (`https://evergreen.example.com`); providers redirect to it + `/v1/connect/callback`, which must be registered as the client's redirect URI. Unset: connect sessions are refused.",
  },
  {
    name: 'EVERGREEN_CONNECT_RETURN_URLS',
    kind: 'string',
    default: null,
    description:
      "Connect flow: comma-separated URL prefixes a session's `returnTo` must start with (same origin, path under the prefix); no other address is ever redirected to.",
  },
  {
    name: 'EVERGREEN_OTEL_EXPORTER_URL',
    kind: 'url',
    default: null,
    description:
      'OpenTelemetry traces of every refresh go to this OTLP/HTTP endpoint (`http://collector:4318/v1/traces`); unset: tracing is off.',
  },
  {
    name: 'EVERGREEN_WEBHOOKS',
    kind: 'string',
    default: null,
    description:
      'Webhook endpoints: a JSON list `[{"id","url","secret","events"}]`, or the path of a YAML/JSON file holding one; `${VAR}` is read from the environment (docs/events.md).',
  },
  {
    name: 'EVERGREEN_ENV_FILE',
    kind: 'string',
    default: '.env',
    description:
      'File of variables loaded at start when it exists (variables set to a value win; blank ones count as unset); `none` turns it off. `pnpm start` and `evergreen secrets init` write a key and an admin token to it, mode 0600.',
  },
  {
    name: 'NODE_ENV',
    kind: 'string',
    default: null,
    description:
      '`production` (the image sets it): start-up refuses the encryption key and admin tokens ever published in the repository (old compose defaults, infra/k8s placeholders), and `pnpm start` writes no `.env`.',
  },
  {
    name: 'EVERGREEN_LOG_LEVEL',
    kind: 'level',
    default: 'info',
    description: 'pino level: fatal, error, warn, info, debug, trace, silent.',
  },
  {
    name: 'EVERGREEN_PROCESS_NAME',
    kind: 'string',
    default: null,
    description: 'Name of this process in the audit table and logs; defaults to `hostname:pid`.',
  },
  {
    name: 'EVERGREEN_MIGRATE_ON_START',
    kind: 'boolean',
    default: 'true',
    description: 'Apply pending migrations when a process starts (idempotent, serialised by an advisory lock).',
  },
  {
    name: 'EVERGREEN_WORKER_CONCURRENCY',
    kind: 'int',
    default: '16',
    min: 1,
    max: 1024,
    description: 'Refreshes in flight per provider queue in one worker process.',
  },
  {
    name: 'EVERGREEN_JOB_LOCK_MS',
    kind: 'int',
    default: String(10 * S),
    min: 1_000,
    max: 10 * MIN,
    description:
      "BullMQ job lock; a killed worker's job is taken up again about this long plus the stall interval later.",
  },
  {
    name: 'EVERGREEN_STALLED_INTERVAL_MS',
    kind: 'int',
    default: String(5 * S),
    min: 500,
    max: 10 * MIN,
    description: 'How often workers look for stalled jobs.',
  },
  {
    name: 'EVERGREEN_SHUTDOWN_GRACE_MS',
    kind: 'int',
    default: String(25 * S),
    min: 0,
    max: 10 * MIN,
    description: 'On SIGTERM, how long in-flight refreshes may take to finish before the process exits.',
  },
  {
    name: 'EVERGREEN_LOCK_TTL_MS',
    kind: 'int',
    default: String(30 * S),
    min: 1_000,
    max: 10 * MIN,
    description:
      "Longest hold of a connection's refresh lock; must exceed the HTTP deadline plus the write. A refresh takes it for the HTTP deadline plus 3 s when that is shorter (a killed worker's connection waits that long), extending it for a grace-period replay or retried writes.",
  },
  {
    name: 'EVERGREEN_HTTP_CONNECT_TIMEOUT_MS',
    kind: 'int',
    default: String(5 * S),
    min: 100,
    max: MIN,
    description: 'Token endpoint: TCP/TLS connect timeout.',
  },
  {
    name: 'EVERGREEN_HTTP_HEADERS_TIMEOUT_MS',
    kind: 'int',
    default: String(10 * S),
    min: 100,
    max: MIN,
    description: 'Token endpoint: time to the response headers.',
  },
  {
    name: 'EVERGREEN_HTTP_BODY_TIMEOUT_MS',
    kind: 'int',
    default: String(10 * S),
    min: 100,
    max: MIN,
    description: 'Token endpoint: idle time between body chunks.',
  },
  {
    name: 'EVERGREEN_HTTP_DEADLINE_MS',
    kind: 'int',
    default: String(15 * S),
    min: 100,
    max: 5 * MIN,
    description: 'Token endpoint: the whole request, end to end.',
  },
  {
    name: 'EVERGREEN_HTTP_MAX_RESPONSE_BYTES',
    kind: 'int',
    default: String(64 * 1024),
    min: 1024,
    max: 16 * 1024 * 1024,
    description: 'Token endpoint: larger bodies are cut and treated as garbage.',
  },
  {
    name: 'EVERGREEN_RETRY_ATTEMPTS',
    kind: 'int',
    default: '8',
    min: 1,
    max: 100,
    description: 'Quick retries (exponential backoff, full jitter) before the cooldown cadence.',
  },
  {
    name: 'EVERGREEN_RETRY_BASE_MS',
    kind: 'int',
    default: String(S),
    min: 10,
    max: MIN,
    description: 'First retry ceiling; doubles per consecutive failure.',
  },
  {
    name: 'EVERGREEN_RETRY_CAP_MS',
    kind: 'int',
    default: String(30 * S),
    min: 10,
    max: 60 * MIN,
    description: 'Largest retry ceiling.',
  },
  {
    name: 'EVERGREEN_RETRY_COOLDOWN_MS',
    kind: 'int',
    default: String(5 * MIN),
    min: 100,
    max: 24 * 60 * MIN,
    description: 'Retry cadence (±50 %) after the quick retries are used up; transient failures never give up.',
  },
  {
    name: 'EVERGREEN_RATE_LIMIT_DEFAULT_MS',
    kind: 'int',
    default: String(MIN),
    min: 100,
    max: 60 * MIN,
    description: 'Pause after a 429 without a usable Retry-After.',
  },
  {
    name: 'EVERGREEN_RATE_LIMIT_MAX_MS',
    kind: 'int',
    default: String(10 * MIN),
    min: 100,
    max: 24 * 60 * MIN,
    description: 'Longest pause a Retry-After can impose.',
  },
  {
    name: 'EVERGREEN_BREAKER_FAILURE_RATIO',
    kind: 'number',
    default: '0.5',
    min: 0.05,
    max: 1,
    description:
      "Circuit breaker: a provider's breaker opens when at least this share of its token requests in the window failed for transient reasons (network, timeout, 5xx, garbage); `invalid_grant` and other per-connection answers count as working, 429s not at all (docs/reliability.md).",
  },
  {
    name: 'EVERGREEN_BREAKER_WINDOW_MS',
    kind: 'int',
    default: String(MIN),
    min: 1_000,
    max: 60 * MIN,
    description: "Circuit breaker: how far back a provider's requests count toward opening it.",
  },
  {
    name: 'EVERGREEN_BREAKER_MIN_REQUESTS',
    kind: 'int',
    default: '20',
    min: 1,
    max: 1_000_000,
    description: 'Circuit breaker: fewer requests than this in the window never open it.',
  },
  {
    name: 'EVERGREEN_BREAKER_PROBE_INTERVAL_MS',
    kind: 'int',
    default: String(15 * S),
    min: 100,
    max: 60 * MIN,
    description:
      "Circuit breaker: while open, one real refresh of the provider goes out this often (across every process) as a probe; the provider's refreshes wait without using attempts, and a successful probe closes it.",
  },
  {
    name: 'EVERGREEN_BREAKER_RAMP_MS',
    kind: 'int',
    default: String(MIN),
    min: 0,
    max: 60 * MIN,
    description:
      'Circuit breaker: after it closes, a provider without a declared rate limit ramps up over this long (5 requests a second, doubling every sixth of it, up to 160) before requests flow freely; 0: no ramp. Nearest expiries go first.',
  },
  {
    name: 'EVERGREEN_MIN_REFRESH_INTERVAL_MS',
    kind: 'int',
    default: String(10 * S),
    min: 0,
    max: 60 * MIN,
    description: 'Never refresh one connection again sooner than this after a success (loop guard).',
  },
  {
    name: 'EVERGREEN_REFRESH_JITTER_MS',
    kind: 'int',
    default: String(30 * S),
    min: 0,
    max: 60 * MIN,
    description: 'Refreshes run up to this much (and at most 10 % of the lifetime) early, at random.',
  },
  {
    name: 'EVERGREEN_SHORT_LIFETIME_FRACTION',
    kind: 'number',
    default: '0.5',
    min: 0.05,
    max: 0.95,
    description:
      'Short-lived tokens are refreshed once this fraction of their lifetime remains, when that is less than the buffer.',
  },
  {
    name: 'EVERGREEN_RECONCILE_INTERVAL_MS',
    kind: 'int',
    default: String(MIN),
    min: 100,
    max: 60 * MIN,
    description: 'Scheduler: how often it reconciles Postgres into Redis.',
  },
  {
    name: 'EVERGREEN_RECONCILE_CHECK_INTERVAL_MS',
    kind: 'int',
    default: String(5 * S),
    min: 0,
    max: 60 * MIN,
    description:
      'Scheduler: how often it checks (one GET) that Redis still holds its data; when not, the full pass runs at once. 0: only at each reconcile.',
  },
  {
    name: 'EVERGREEN_BACKLOG_ORDER_INTERVAL_MS',
    kind: 'int',
    default: String(5 * S),
    min: 0,
    max: 60 * MIN,
    description:
      "Scheduler: how often a provider's backlog (20 or more refreshes waiting) is put back in order of need, nearest expiry first. 0: never.",
  },
  {
    name: 'EVERGREEN_RECONCILE_GRACE_MS',
    kind: 'int',
    default: String(15 * S),
    min: 0,
    max: 60 * MIN,
    description: 'Scheduler: a live connection this late without a job is rescheduled.',
  },
  {
    name: 'EVERGREEN_FULL_RECONCILE_INTERVAL_MS',
    kind: 'int',
    default: String(6 * 60 * MIN),
    min: 1_000,
    max: 7 * 24 * 60 * MIN,
    description: 'Scheduler: full pass over every row, in pages (also at once when Redis lost its data).',
  },
] as const satisfies readonly VariableSpec[];

export type VariableName = (typeof VARIABLES)[number]['name'];
