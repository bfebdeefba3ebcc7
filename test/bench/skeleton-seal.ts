import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The skeleton refresh's sealing of a token: AES-256-GCM, iv ‖ tag ‖ body in base64, one fresh IV each, as a refresh
 * must do for every token it stores (Evergreen's keyring does more: key ids, associated data).
 */
export function seal(key: Buffer, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function open(key: Buffer, sealed: string): string {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}
