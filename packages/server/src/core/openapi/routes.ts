import type { AppDeps } from '../deps.ts';
import type { ApiRouter } from '../http.ts';

// TODO(in progress this session): routes of this feature.
export function registerDocsRoutes(api: ApiRouter, deps: AppDeps): void {
  void api;
  void deps;
}
