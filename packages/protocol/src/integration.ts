import { z } from 'zod';
import { IsoDateTime } from './common.ts';
import { SessionConfigInput } from './session.ts';

export const WebhookUrl = z
  .url({ protocol: /^https?$/, error: 'webhookUrl must be an absolute http(s) URL' })
  .max(2048);

/** An origin such as `https://lms.example.edu` (scheme, host, optional port; no path). */
export const Origin = z
  .string()
  .max(255)
  .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be an origin like https://lms.example.edu');

export const CreateIntegrationRequest = z
  .object({
    name: z.string().trim().min(1).max(200),
    webhookUrl: WebhookUrl.optional(),
    allowedOrigins: z.array(Origin).max(50).optional(),
    retentionDays: z.number().int().min(1).max(3650).optional(),
  })
  .meta({ id: 'CreateIntegrationRequest' });
export type CreateIntegrationRequest = z.infer<typeof CreateIntegrationRequest>;

export const UpdateIntegrationRequest = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    webhookUrl: WebhookUrl.nullable().optional(),
    allowedOrigins: z.array(Origin).max(50).optional(),
    retentionDays: z.number().int().min(1).max(3650).optional(),
    defaultSessionConfig: SessionConfigInput.optional(),
  })
  .meta({ id: 'UpdateIntegrationRequest' });
export type UpdateIntegrationRequest = z.infer<typeof UpdateIntegrationRequest>;

export const Integration = z
  .object({
    id: z.string(),
    name: z.string(),
    webhookUrl: z.string().nullable(),
    allowedOrigins: z.array(z.string()),
    retentionDays: z.number().int(),
    defaultSessionConfig: SessionConfigInput,
    apiKeyPrefix: z.string().meta({ description: 'First characters of the current API key, to tell keys apart.' }),
    createdAt: IsoDateTime,
    updatedAt: IsoDateTime,
  })
  .meta({ id: 'Integration' });
export type Integration = z.infer<typeof Integration>;

export const CreateIntegrationResponse = Integration.extend({
  apiKey: z.string().meta({ description: '`sa_live_…`. Shown only in this response: store it now.' }),
  webhookSecret: z
    .string()
    .meta({ description: '`whsec_…`. Verifies webhook signatures (Standard Webhooks). Shown only here.' }),
}).meta({ id: 'CreateIntegrationResponse' });
export type CreateIntegrationResponse = z.infer<typeof CreateIntegrationResponse>;

export const RotateKeyResponse = z
  .object({ apiKey: z.string(), apiKeyPrefix: z.string() })
  .meta({ id: 'RotateKeyResponse' });
