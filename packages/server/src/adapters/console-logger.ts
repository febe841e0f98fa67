import type { Logger } from '../core/ports.ts';

/** One JSON line per event on stderr. Callers never pass secrets or biometric data in fields. */
export class ConsoleLogger implements Logger {
  constructor(private readonly quiet = false) {}

  private write(level: string, message: string, fields?: Record<string, unknown>): void {
    if (this.quiet && level === 'info') return;
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }) + '\n');
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }
}
