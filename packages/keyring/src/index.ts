export { Keyring, DecryptError, EncryptError, KEYGEN_HINT, tokenAad } from './keyring.ts';
