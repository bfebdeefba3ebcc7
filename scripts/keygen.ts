// Prints a new encryption key entry for EVERGREEN_ENCRYPTION_KEYS. To rotate, put it first and keep the old ones.
import { Keyring } from '@evergreen/keyring';

process.stdout.write(`${Keyring.generateEntry(process.argv[2])}\n`);
