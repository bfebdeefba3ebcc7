export { Keyring, DecryptError, EncryptError, KEYGEN_HINT, tokenAad } from './keyring.ts';
export {
  encryptionBudget,
  GCM_RANDOM_IV_LIMIT,
  ENCRYPTION_WARNING_FROM,
  ENCRYPTION_WARNING_EVERY,
  type EncryptionBudgetWarning,
} from './encryption-budget.ts';
