export { BUILTIN_PROVIDERS } from './builtins.ts';
