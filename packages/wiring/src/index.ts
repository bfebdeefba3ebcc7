export { openEvergreen, type EvergreenParts, type OpenOptions, type RedisParts } from './open-evergreen.ts';
export { PartsClosedError } from './parts-closed-error.ts';
