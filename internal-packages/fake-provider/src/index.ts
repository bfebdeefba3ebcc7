export { FakeProvider } from './fake-provider.ts';
export type {
  ErrorStyle,
  ExpiresInFormat,
  FakeProviderOptions,
  LoginEndpointOptions,
  ResponseFormat,
  RotationPolicy,
} from './options.ts';
export type { ClientAuthMethod } from './client-auth.ts';
export type { Fault, FaultKind, FaultShare } from './faults.ts';
export type { GrantSnapshot, IssueResult } from './grant-store.ts';
export type { TokenRequestOutcome, TokenRequestRecord } from './token-request-record.ts';
export type { RevocationRecord } from './revocation-record.ts';
export type {
  AssertionRecord,
  CheckRecord,
  CredentialCheckOptions,
  CredentialEndpoints,
  GithubAppOptions,
  InstallationRecord,
  JwtBearerOptions,
  TokenExchangeOptions,
} from './credential-endpoints.ts';
