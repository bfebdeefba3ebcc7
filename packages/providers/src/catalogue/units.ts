/** Lifetimes in the catalogue are written in seconds, as `expires_in` is. */
export const MINUTE = 60;
export const HOUR = 3600;
export const DAY = 86_400;
