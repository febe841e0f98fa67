export * from './violations.ts';
export * from './scoring.ts';
export * from './common.ts';
export * from './session.ts';
export * from './integration.ts';
export * from './events.ts';
export * from './webhooks.ts';
export * from './live-events.ts';
