import { z } from 'zod';
import { IsoDateTime } from './common.ts';

/** Sign-in to the proctor console: the integration's API key, exchanged for an HttpOnly cookie. */
export const ConsoleLoginRequest = z
  .object({
    apiKey: z.string().trim().min(1, 'apiKey is required').max(200).meta({ description: 'The integration API key (`sa_live_…`).' }),
  })
  .meta({ id: 'ConsoleLoginRequest' });
export type ConsoleLoginRequest = z.infer<typeof ConsoleLoginRequest>;

/** Who the console is signed in as. */
export const ConsoleSession = z
  .object({
    integration: z.object({ id: z.string(), name: z.string() }),
    expiresAt: IsoDateTime.meta({ description: 'When the console session ends (12 hours after sign-in); sign in again then.' }),
  })
  .meta({ id: 'ConsoleSession' });
export type ConsoleSession = z.infer<typeof ConsoleSession>;
