// The example tools the onboarding scenarios use. No network: they check and record locally.
import { createHash } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { KeelError } from '../../shared';
import { defineTool } from '../define-tool';

const stableId = (prefix: string, ...parts: string[]): string =>
  `${prefix}_${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 12)}`;

export const verifyDocument = defineTool({
  name: 'verify_document',
  description: 'Checks an identity or company registration document for the required fields.',
  input: z.object({
    customer: z.string().min(1),
    document: z.object({ type: z.enum(['company_registration', 'passport', 'utility_bill']), number: z.string(), address: z.string().optional() }),
  }),
  async run({ customer, document }) {
    const missing = [!/^[A-Z0-9-]{6,}$/.test(document.number) ? 'a document number of 6+ letters/digits' : undefined, document.address ? undefined : 'an address']
      .filter((item): item is string => item !== undefined);
    if (missing.length > 0) throw new KeelError('semantic', `document for ${customer} is missing ${missing.join(' and ')}`);
    return { valid: true, customer, documentType: document.type, checkedFields: ['number', 'address'] };
  },
});

export const createAccount = defineTool({
  name: 'create_account',
  description: 'Creates a customer account. Idempotent: the same task creates the same account.',
  input: z.object({ customer: z.string().min(1), plan: z.enum(['starter', 'team', 'enterprise']).default('starter') }),
  async run({ customer, plan }, context) {
    return { accountId: stableId('acct', context.idempotencyKey, customer), customer, plan };
  },
});

/** Delivers to a local outbox file (one JSON line a message) instead of the network. */
export function sendEmail(outboxDirectory: string) {
  return defineTool({
    name: 'send_email',
    description: 'Sends an email to a customer (delivered to the local outbox).',
    input: z.object({ to: z.email(), subject: z.string().min(1), body: z.string().min(1) }),
    async run(message, context) {
      const messageId = stableId('msg', context.idempotencyKey);
      await mkdir(outboxDirectory, { recursive: true });
      await appendFile(path.join(outboxDirectory, 'outbox.jsonl'), `${JSON.stringify({ messageId, ...message })}\n`);
      return { messageId, to: message.to, delivered: true };
    },
  });
}
