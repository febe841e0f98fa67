import type { AppDeps } from '../deps.ts';
import type { ApiRouter } from '../http.ts';

export function registerFaceRoutes(api: ApiRouter, deps: AppDeps): void {
  void api;
  void deps;
}
