import { z } from 'zod';

/** A host a person may log in to, as jmp-ssh's menu and the web console show it. */
export const MyHost = z.object({
  id: z.number(),
  hostname: z.string(),
  addresses: z.array(z.string()),
  state: z.enum(['online', 'offline']),
  kind: z.string(),
  service: z.string().nullable(),
  project: z.string().nullable(),
  root: z.boolean(),
  reason: z.string(),
});
export const MyHosts = z.object({ hosts: z.array(MyHost) });
export type MyHost = z.infer<typeof MyHost>;
