import { describe, expect, test } from 'vitest';
import { safeNext } from '../src/router.ts';

describe('safeNext (where sign-in goes afterwards)', () => {
  test('keeps console pages, with their query', () => {
    expect(safeNext('/console/sessions/ses_abc123XYZ')).toBe('/console/sessions/ses_abc123XYZ');
    expect(safeNext('/console/sessions?status=in_progress&candidate=stu-1')).toBe('/console/sessions?status=in_progress&candidate=stu-1');
    expect(safeNext('/console/webhooks')).toBe('/console/webhooks');
  });

  test('anything else goes to the sessions list: other sites, other paths, the sign-in page itself', () => {
    for (const next of [null, '', 'https://evil.example/console/', '//evil.example/console/x', '/\\evil.example', '/api/integration', '/console/signin?next=/console/x', '/console/x"><script>', 'javascript:alert(1)']) {
      expect(safeNext(next)).toBe('/console/sessions');
    }
  });
});
