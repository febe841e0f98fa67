/**
 * SecureAccess widget, ES module entry: `import { SecureAccessWidget } from '@secureaccess/widget'`.
 * The script-tag build (`/secureaccess-widget.js`) exposes the same class as `window.SecureAccessWidget`.
 */
export { SecureAccessWidget } from './widget.ts';
export type {
  AssessmentResult,
  CheatingEvent,
  Scores,
  SecureAccessWidgetOptions,
  WidgetErrorInfo,
  WidgetMetrics,
  WidgetState,
} from './widget.ts';
export { SecureAccessError } from './api.ts';
export { DEFAULT_STRINGS, type Strings, type StringKey } from './strings.ts';
