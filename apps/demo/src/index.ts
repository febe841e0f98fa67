export { createDemoApp, DEMO_CSP, type DemoAppOptions } from './app.ts';
export { DEMO_ASSESSMENT, LIVE_NOT_AVAILABLE, externalUserIdFor, type CreatedDemoSession, type DemoMode } from './sessions.ts';
