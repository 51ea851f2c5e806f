/**
 * The calls every client test sends for one lead: one of each Segment
 * call type, written as the clients' own method arguments.
 */
export function leadCalls(userId: string) {
  return {
    identify: {
      userId,
      traits: {
        title: 'Chief Procurement Officer',
        email: `${userId}@acme-industrial.example.com`,
        company: { name: 'Acme Industrial', employee_count: 25000 },
      },
    },
    page: { userId, name: 'Pricing', properties: { path: '/pricing' } },
    track: { userId, event: 'Demo Requested', properties: { plan: 'pro' } },
    group: {
      userId,
      groupId: 'acme-industrial',
      traits: { industry: 'Manufacturing' },
    },
    alias: { userId, previousId: `anonymous-${userId}` },
  };
}

/** The call types of leadCalls, in the order the tests send them. */
export const CALL_TYPES = [
  'identify',
  'page',
  'track',
  'group',
  'alias',
] as const;

/** Returns the message ids of a batch body's messages. */
export function batchMessageIds(body: unknown): string[] {
  const batch = (body as { batch?: Array<{ messageId?: string }> }).batch;
  return (batch ?? []).map((message) => message.messageId ?? '');
}
