/* Imported first by extension.ts, so activation time counts the whole bundle's evaluation. */
export const loadedAt = performance.now();
