import { describe, expect, it } from 'vitest';
import { explainScore } from '../../functions/domain/explanation.js';
import { tallyOf } from '../../functions/domain/intent-tallies.js';
import { applyEvents, newLead } from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import {
  MAX_CLICK_SECONDS,
  parseTime,
} from '../../functions/domain/quarantine.js';
import { scoreLead } from '../../functions/domain/score.js';
import { T0, trackingEvent } from '../fixtures/events.js';
import { modelWith } from '../fixtures/models.js';

const model = modelWith({
  intent: [
    { id: 'click', when: { events: ['Email Link Clicked'] }, points: 3 },
    { id: 'open', when: { events: ['Email Opened'] }, points: 1 },
    { id: 'pricing', when: { path: '^/pricing' }, points: 25 },
  ],
});

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 ' +
  '(KHTML, like Gecko) Chrome/126.0 Safari/537.36';

function click(
  atMs: number,
  fields: Partial<TrackingEvent> = {},
): TrackingEvent {
  return trackingEvent({
    type: 'track',
    name: 'Email Link Clicked',
    occurredAt: T0 + atMs,
    userAgent: CHROME,
    ...fields,
  });
}

function outcomeOf(event: TrackingEvent) {
  const { outcomes } = applyEvents(newLead('l', model, T0), [event], model);
  return outcomes[0];
}

function scoreAfter(events: TrackingEvent[], at = T0 + 3_600_000) {
  const { state } = applyEvents(newLead('l', model, T0), events, model);
  return scoreLead(state, model, at);
}

describe('quarantine of single events', () => {
  it.each([
    { agent: 'Mozilla/5.0 (compatible; Googlebot/2.1)', reason: 'bot' },
    { agent: 'python-requests/2.32.3', reason: 'library' },
    { agent: 'Mozilla/5.0 HeadlessChrome/126.0', reason: 'headless' },
    { agent: 'Barracuda Sentinel (EE)', reason: 'mail scanner' },
    {
      agent: 'Microsoft Office/16.0 (ms-office; MSOffice 16)',
      reason: 'Office',
    },
    { agent: 'Mozilla/5.0 (compatible; proofpoint)', reason: 'Proofpoint' },
  ])('quarantines a $reason user agent', ({ agent }) => {
    const event = trackingEvent({
      type: 'page',
      path: '/pricing',
      userAgent: agent,
    });

    expect(outcomeOf(event)).toMatchObject({ quarantine: 'bot-user-agent' });
  });

  it.each([
    CHROME,
    'Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1',
  ])('scores a browser user agent: %s', (agent) => {
    const event = trackingEvent({
      type: 'page',
      path: '/pricing',
      userAgent: agent,
    });

    expect(outcomeOf(event)).toMatchObject({ ruleId: 'pricing', points: 25 });
  });

  it.each([
    { delivered: T0, clickedAfter: 2_000, quarantined: true },
    { delivered: T0, clickedAfter: 9_999, quarantined: true },
    { delivered: T0, clickedAfter: 10_000, quarantined: false },
    { delivered: T0 + 60_000, clickedAfter: 0, quarantined: true },
  ])(
    'judges a click $clickedAfter ms after delivery',
    ({ delivered, clickedAfter, quarantined }) => {
      const event = click(clickedAfter, {
        properties: { deliveredAt: new Date(delivered).toISOString() },
      });

      expect(outcomeOf(event)?.quarantine).toBe(
        quarantined ? 'click-within-seconds-of-delivery' : undefined,
      );
    },
  );

  it.each([
    { property: 'delivered_at', value: T0 / 1000 },
    { property: 'sent_at', value: T0 },
    { property: 'email_delivered_at', value: String(T0 / 1000) },
  ])('reads the delivery time from $property', ({ property, value }) => {
    const event = click(3_000, { properties: { [property]: value } });

    expect(outcomeOf(event)?.quarantine).toBe(
      'click-within-seconds-of-delivery',
    );
  });

  it('scores a click without a delivery time', () => {
    expect(outcomeOf(click(1_000))).toMatchObject({ points: 3 });
  });

  it.each([
    { fields: { userAgent: 'Mozilla/5.0' }, quarantined: true },
    { fields: { properties: { sg_machine_open: true } }, quarantined: true },
    { fields: { properties: { machine_open: 'true' } }, quarantined: true },
    { fields: { userAgent: CHROME }, quarantined: false },
    { fields: { properties: { machine_open: false } }, quarantined: false },
  ])('judges an open with $fields', ({ fields, quarantined }) => {
    const open = trackingEvent({
      type: 'track',
      name: 'Email Opened',
      ...fields,
    });

    expect(outcomeOf(open)?.quarantine).toBe(
      quarantined ? 'privacy-proxy-open' : undefined,
    );
  });
});

describe('click bursts', () => {
  it('takes back every click of a second with three clicks', () => {
    const burst = [100, 400, 900].map((ms) => click(5_000 + ms));

    const score = scoreAfter(burst);

    expect(score.intent).toBe(0);
    expect(score.quarantined).toEqual([
      { reason: 'click-burst', count: 3, lastAt: T0 + 5_900 },
    ]);
  });

  it('takes back clicks that arrived in an earlier batch', () => {
    const [first, second, third] = [100, 400, 900].map((ms) =>
      click(5_000 + ms),
    );
    const early = applyEvents(
      newLead('l', model, T0),
      [first as TrackingEvent, second as TrackingEvent],
      model,
    );
    const late = applyEvents(early.state, [third as TrackingEvent], model);

    expect(scoreLead(early.state, model, T0 + 6_000).intent).toBeCloseTo(6, 5);
    expect(scoreLead(late.state, model, T0 + 6_000).intent).toBe(0);
    expect(late.state.quarantined['click-burst']?.count).toBe(3);
  });

  it('leaves two clicks in one second scored', () => {
    const pair = [100, 400].map((ms) => click(5_000 + ms));

    expect(scoreAfter(pair).intent).toBeCloseTo(6, 2);
  });

  it('scores a later human click after a burst', () => {
    const burst = [100, 400, 900].map((ms) => click(5_000 + ms));
    const human = click(125_000);

    const score = scoreAfter([...burst, human]);

    expect(score.intent).toBeCloseTo(3, 2);
    expect(score.intentContributions[0]).toMatchObject({
      matched: 1,
      lastAt: T0 + 125_000,
    });
  });

  it('counts a bot click towards the burst of its second', () => {
    const human = [100, 400].map((ms) => click(5_000 + ms));
    const bot = click(5_700, { userAgent: 'Mimecast URL Protect' });

    const score = scoreAfter([...human, bot]);

    expect(score.intent).toBe(0);
    expect(score.quarantined.map((q) => [q.reason, q.count])).toEqual([
      ['bot-user-agent', 1],
      ['click-burst', 2],
    ]);
  });

  it('lists quarantined events in the explanation', () => {
    const burst = [100, 400, 900].map((ms) => click(5_000 + ms));
    const pricing = trackingEvent({ type: 'page', path: '/pricing' });

    const shown = explainScore(scoreAfter([...burst, pricing]));

    expect(shown.score).toBeGreaterThan(24);
    expect(shown.quarantined).toEqual([
      {
        reason: 'click-burst',
        count: 3,
        lastAt: new Date(T0 + 5_900).toISOString(),
      },
    ]);
  });

  it('keeps the latest click seconds only', () => {
    const clicks = Array.from({ length: MAX_CLICK_SECONDS + 500 }, (_, s) =>
      click(s * 1000),
    );

    const { state } = applyEvents(newLead('l', model, T0), clicks, model);

    expect(state.clickSeconds).toHaveLength(MAX_CLICK_SECONDS);
    expect(state.clickSeconds[0]?.second).toBe(Math.floor(T0 / 1000) + 500);
    expect(tallyOf(state.intent, 'click')?.lastAt).toBe(T0 + 499_000);
    expect(state.lastActivityAt).toBe(T0 + 499_000);
  });

  it('makes a click older than every kept second final', () => {
    const recent = Array.from({ length: MAX_CLICK_SECONDS }, (_, s) =>
      click(3_600_000 + s * 1000, { name: 'Email Clicked' }),
    );
    const early = applyEvents(newLead('l', model, T0), recent, model);

    const { state } = applyEvents(early.state, [click(0)], model);

    expect(state.clickSeconds).toHaveLength(MAX_CLICK_SECONDS);
    expect(tallyOf(state.intent, 'click')?.matched).toBe(1);
    expect(tallyOf(state.intent, 'click')?.lastAt).toBe(T0);
    expect(state.lastActivityAt).toBe(T0);
  });

  it('gives quarantined events no activity time', () => {
    const bot = trackingEvent({
      type: 'page',
      path: '/pricing',
      userAgent: 'curl/8.5.0',
    });
    const { state } = applyEvents(newLead('l', model, T0), [bot], model);

    expect(state.lastActivityAt).toBeUndefined();
    expect(state.eventCount).toBe(1);
  });
});

describe('parseTime', () => {
  it.each([
    { value: '2026-01-01T00:00:00Z', expected: T0 },
    { value: '2026-01-01T00:00:00', expected: T0 },
    { value: '2026-01-01T02:00:00+02', expected: T0 },
    { value: 'Thu, 01 Jan 2026 00:00:00 GMT', expected: undefined },
    { value: T0 / 1000, expected: T0 },
    { value: T0, expected: T0 },
    { value: `${T0}`, expected: T0 },
    { value: 'soon', expected: undefined },
    { value: -5, expected: undefined },
    { value: null, expected: undefined },
  ])('parses $value', ({ value, expected }) => {
    expect(parseTime(value)).toBe(expected);
  });
});
