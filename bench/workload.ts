import {
  type TrackingEvent,
  withEventShape,
} from '../functions/domain/messages.js';
import { DAY_MS } from '../functions/domain/time.js';

/**
 * Synthetic tracking traffic for the benchmarks: a fixed, seeded mix of
 * identify calls, page views and track events that exercises fit rules,
 * intent rules with and without caps, email clicks (burst detection) and
 * events that match no rule.
 */

const PAGES = [
  '/pricing',
  '/blog/supplier-risk-in-2026',
  '/blog/p2p-automation',
  '/product/sourcing',
  '/customers/acme-manufacturing',
  '/integrations/sap-ariba',
  '/compare/coupa',
  '/csddd',
  '/careers',
  '/about',
  '/roi-calculator',
  '/analyst-reports/gartner-mq',
];

const TRACKS: Array<{ name: string; properties?: Record<string, unknown> }> = [
  { name: 'Demo Requested' },
  { name: 'Webinar Registered' },
  { name: 'Webinar Attended' },
  { name: 'Email Opened' },
  { name: 'Email Link Clicked' },
  { name: 'Content Downloaded', properties: { asset: 'LkSG checklist' } },
  { name: 'Content Downloaded', properties: { asset: 'Buyers guide' } },
  { name: 'Signed Up For Newsletter' },
];

const TITLES = [
  'Chief Procurement Officer',
  'VP Procurement',
  'Director of Strategic Sourcing',
  'Procurement Manager',
  'Software Engineer',
  'Finance student',
];

/** A small deterministic random generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

/**
 * Builds `perLead` events for each of `leads` leads, spread over 90 days
 * after `start`: an identify first, then 60 % page views and 40 % track
 * events, in time order per lead.
 */
export function syntheticEvents(options: {
  leads: number;
  perLead: number;
  start: number;
  seed?: number;
}): Map<string, TrackingEvent[]> {
  const random = seededRandom(options.seed ?? 1);
  const byLead = new Map<string, TrackingEvent[]>();
  for (let lead = 0; lead < options.leads; lead += 1) {
    const userId = `lead-${lead}`;
    const events: TrackingEvent[] = [];
    let at = options.start + Math.floor(random() * DAY_MS);
    for (let index = 0; index < options.perLead; index += 1) {
      const messageId = `${userId}-${index}`;
      const base = { messageId, userId, occurredAt: at, receivedAt: at };
      if (index === 0) {
        events.push({
          ...base,
          type: 'identify',
          properties: {},
          traits: {
            title: pick(TITLES, random),
            'company.employee_count': Math.floor(random() * 20_000),
            'company.industry': 'Manufacturing',
            'company.country': 'Germany',
          },
        });
      } else if (random() < 0.6) {
        const path = pick(PAGES, random);
        events.push({
          ...base,
          type: 'page',
          path,
          properties: { path },
          traits: {},
        });
      } else {
        const track = pick(TRACKS, random);
        events.push({
          ...base,
          type: 'track',
          name: track.name,
          properties: track.properties ?? {},
          traits: {},
        });
      }
      at += Math.floor(random() * ((90 * DAY_MS) / options.perLead));
    }
    // Ingest builds every event with toTrackingEvent, which gives all of
    // them one shape; the workload does the same.
    byLead.set(userId, events.map(withEventShape));
  }
  return byLead;
}
