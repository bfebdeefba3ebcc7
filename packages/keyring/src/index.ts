export { Keyring, DecryptError, KEYGEN_HINT, tokenAad } from './keyring.ts';
