/** Script-tag entry: defines `window.SecureAccessWidget` (seed snippet). */
import { SecureAccessWidget } from './widget.ts';

declare global {
  interface Window {
    SecureAccessWidget: typeof SecureAccessWidget;
  }
}

window.SecureAccessWidget = SecureAccessWidget;
