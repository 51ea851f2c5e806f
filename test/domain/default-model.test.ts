import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accountOf, roleOf } from '../../functions/domain/account.js';
import { applyEvents, newLead } from '../../functions/domain/lead.js';
import type { TrackingEvent } from '../../functions/domain/messages.js';
import type { AccountPolicy } from '../../functions/domain/model.js';
import { maximumFit } from '../../functions/domain/model-check.js';
import { evaluateLead } from '../../functions/domain/qualification.js';
import { DAY_MS } from '../../functions/domain/time.js';
import { identify, T0, trackingEvent } from '../fixtures/events.js';
import { defaultModel } from '../support/dependencies.js';

const model = defaultModel();

const page = (path: string, days = 0) =>
  trackingEvent({ type: 'page', path, days });
const track = (name: string, properties = {}, days = 0) =>
  trackingEvent({ type: 'track', name, properties, days });

/** Every page of the site, read once a day for two weeks. */
function readsEverything(): TrackingEvent[] {
  const paths = [
    '/pricing',
    '/blog/p2p',
    '/compare/vendor',
    '/integrations/sap',
    '/customers/acme',
    '/products/sourcing',
    '/csddd',
    '/roi-calculator',
  ];
  return Array.from({ length: 14 }, (_, day) =>
    paths.map((path) => page(path, day)),
  ).flat();
}

function evaluate(events: TrackingEvent[], at = T0 + 14 * DAY_MS) {
  const applied = applyEvents(newLead('l', model, T0), events, model).state;
  return evaluateLead(applied, model, at);
}

/** A title and the persona fit rule, points and buying-group role it gets. */
interface TitleCase {
  title: string;
  rule: string | undefined;
  points: number;
  role: string | undefined;
}

const CPO = { rule: 'title-chief-procurement-officer', points: 30 };
const VP_PROCUREMENT = { rule: 'title-vp-procurement', points: 25 };
const DIRECTOR = { rule: 'title-director-strategic-sourcing', points: 22 };
const CFO = { rule: 'title-cfo', points: 20 };
const AP = { rule: 'title-ap-or-controller', points: 18 };
const ESG = { rule: 'title-esg-supplier-risk', points: 18 };
const SUPPLY_CHAIN = { rule: 'title-supply-chain-executive', points: 15 };
const CTO_CIO = { rule: 'title-cto-cio', points: 12 };
const MANAGER = { rule: 'title-procurement-manager', points: 12 };
const FINANCE = { rule: 'title-finance-director', points: 12 };
const STUDENT = { rule: 'title-student-or-intern', points: -30 };
const ASSISTANT = { rule: 'title-assistant', points: 0 };
const NO_PERSONA = { rule: undefined, points: 0 };

const LEADERSHIP = 'procurement-leadership';
const SOURCING = 'strategic-sourcing';
const AP_ROLE = 'ap-controllership';
const ESG_ROLE = 'esg-supplier-risk';
const FINANCE_ROLE = 'finance-leadership';
const IT_ROLE = 'it-leadership';

/** English abbreviations and punctuation variants. */
const ENGLISH_VARIANTS: TitleCase[] = [
  { title: 'C.P.O.', ...CPO, role: LEADERSHIP },
  { title: 'Vice-President Procurement', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'V.P. Procurement', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'VP-Procurement', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'S.V.P. Procurement', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'EVP, Global Procurement', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'Procurement-Director', ...DIRECTOR, role: LEADERSHIP },
  { title: 'Dir. Procurement', ...DIRECTOR, role: LEADERSHIP },
  { title: 'Sr. Dir. Strategic Sourcing', ...DIRECTOR, role: SOURCING },
  { title: 'Procurement Mgr', ...MANAGER, role: SOURCING },
  { title: 'Sr. Manager, Procurement', ...MANAGER, role: SOURCING },
  { title: 'Purchasing Manager', ...MANAGER, role: SOURCING },
  { title: 'AP Mgr', ...AP, role: AP_ROLE },
  { title: 'Sustainability Officer', ...ESG, role: ESG_ROLE },
  { title: 'Human Rights Officer', ...ESG, role: ESG_ROLE },
  { title: 'C.F.O.', ...CFO, role: FINANCE_ROLE },
  { title: 'SVP Finance', ...FINANCE, role: FINANCE_ROLE },
  { title: 'Vice President Finance', ...FINANCE, role: FINANCE_ROLE },
  { title: 'VP-Finance', ...FINANCE, role: FINANCE_ROLE },
  { title: 'Finance-Director', ...FINANCE, role: FINANCE_ROLE },
  { title: 'C.I.O.', ...CTO_CIO, role: IT_ROLE },
  { title: 'IT Director', ...NO_PERSONA, role: IT_ROLE },
  {
    title: 'Assistant Director of Procurement',
    ...DIRECTOR,
    role: LEADERSHIP,
  },
  { title: 'Assistant Controller', ...AP, role: AP_ROLE },
  { title: 'Assistant Buyer', ...MANAGER, role: SOURCING },
];

const GERMAN: TitleCase[] = [
  { title: 'Einkaufsvorstand', ...CPO, role: LEADERSHIP },
  { title: 'Einkaufsvorständin', ...CPO, role: LEADERSHIP },
  { title: 'Leiter Einkauf', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'Leiterin Einkauf', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'Leiter*in Einkauf', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'Einkaufsleiter', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'Head of Einkauf', ...VP_PROCUREMENT, role: LEADERSHIP },
  {
    title: 'Leiter der Einkaufsabteilung',
    ...VP_PROCUREMENT,
    role: LEADERSHIP,
  },
  {
    title: 'Leiter Strategischer Einkauf',
    ...VP_PROCUREMENT,
    role: LEADERSHIP,
  },
  {
    title: 'Bereichsleiterin Beschaffung',
    ...VP_PROCUREMENT,
    role: LEADERSHIP,
  },
  { title: 'Chefeinkäufer', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'Einkaufsdirektor', ...DIRECTOR, role: LEADERSHIP },
  { title: 'Teamleiter Einkauf', ...MANAGER, role: SOURCING },
  { title: 'Einkäufer', ...MANAGER, role: SOURCING },
  { title: 'Einkäufer (m/w/d)', ...MANAGER, role: SOURCING },
  { title: 'Strategische Einkäuferin', ...MANAGER, role: SOURCING },
  { title: 'Leiter Kreditorenbuchhaltung', ...AP, role: AP_ROLE },
  { title: 'Kreditorenbuchhalter', ...NO_PERSONA, role: AP_ROLE },
  { title: 'Controllerin', ...AP, role: AP_ROLE },
  { title: 'Konzerncontroller', ...AP, role: AP_ROLE },
  { title: 'Leiter Controlling', ...AP, role: AP_ROLE },
  { title: 'Nachhaltigkeitsbeauftragter', ...ESG, role: ESG_ROLE },
  { title: 'Menschenrechtsbeauftragte', ...ESG, role: ESG_ROLE },
  { title: 'Leiter Nachhaltigkeit', ...ESG, role: ESG_ROLE },
  { title: 'Nachhaltigkeitsmanagerin', ...NO_PERSONA, role: ESG_ROLE },
  { title: 'Leiter Supply Chain', ...SUPPLY_CHAIN, role: LEADERSHIP },
  { title: 'Finanzvorstand', ...CFO, role: FINANCE_ROLE },
  { title: 'Finanzvorständin', ...CFO, role: FINANCE_ROLE },
  { title: 'Kaufmännische:r Geschäftsführer:in', ...CFO, role: FINANCE_ROLE },
  { title: 'Kaufmännischer Geschäftsführer', ...CFO, role: FINANCE_ROLE },
  {
    title: 'Kaufmaennische Geschaeftsfuehrerin',
    ...CFO,
    role: FINANCE_ROLE,
  },
  { title: 'Kaufmännischer Leiter', ...FINANCE, role: FINANCE_ROLE },
  { title: 'Leiter Finanzen', ...FINANCE, role: FINANCE_ROLE },
  { title: 'Technischer Geschäftsführer', ...CTO_CIO, role: IT_ROLE },
  { title: 'IT-Leiter', ...NO_PERSONA, role: IT_ROLE },
  { title: 'Leiter IT', ...NO_PERSONA, role: IT_ROLE },
];

const FRENCH: TitleCase[] = [
  { title: 'Vice-président achats', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'Directeur des achats', ...DIRECTOR, role: LEADERSHIP },
  {
    title: 'Secrétaire générale et directrice des achats',
    ...DIRECTOR,
    role: LEADERSHIP,
  },
  { title: 'Directrice Achats Groupe', ...DIRECTOR, role: LEADERSHIP },
  { title: 'Responsable achats', ...MANAGER, role: SOURCING },
  { title: 'Acheteuse', ...MANAGER, role: SOURCING },
  {
    title: 'Responsable comptabilité fournisseurs',
    ...AP,
    role: AP_ROLE,
  },
  { title: 'Contrôleur de gestion', ...AP, role: AP_ROLE },
  { title: 'Directeur RSE', ...ESG, role: ESG_ROLE },
  { title: 'Directrice développement durable', ...ESG, role: ESG_ROLE },
  { title: 'Responsable RSE', ...NO_PERSONA, role: ESG_ROLE },
  { title: 'DAF', ...CFO, role: FINANCE_ROLE },
  {
    title: 'Directeur administratif et financier',
    ...CFO,
    role: FINANCE_ROLE,
  },
  { title: 'Directeur financier', ...FINANCE, role: FINANCE_ROLE },
  { title: 'DSI', ...CTO_CIO, role: IT_ROLE },
  {
    title: "Directeur des systèmes d'information",
    ...CTO_CIO,
    role: IT_ROLE,
  },
  { title: 'Directeur informatique', ...NO_PERSONA, role: IT_ROLE },
];

const SPANISH: TitleCase[] = [
  { title: 'Vicepresidente de Compras', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'Jefe de Compras', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'Director de Compras', ...DIRECTOR, role: LEADERSHIP },
  { title: 'Directora de Compras', ...DIRECTOR, role: LEADERSHIP },
  { title: 'Subdirector de Compras', ...DIRECTOR, role: LEADERSHIP },
  { title: 'Responsable de Compras', ...MANAGER, role: SOURCING },
  { title: 'Comprador', ...MANAGER, role: SOURCING },
  { title: 'Jefe de Cuentas a Pagar', ...AP, role: AP_ROLE },
  { title: 'Contralor', ...AP, role: AP_ROLE },
  { title: 'Director de Sostenibilidad', ...ESG, role: ESG_ROLE },
  { title: 'Director Financiero', ...FINANCE, role: FINANCE_ROLE },
  { title: 'Director de Sistemas', ...NO_PERSONA, role: IT_ROLE },
];

const ITALIAN: TitleCase[] = [
  { title: 'Capo Acquisti', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'Direttore Acquisti', ...DIRECTOR, role: LEADERSHIP },
  { title: 'Vicedirettore Acquisti', ...DIRECTOR, role: LEADERSHIP },
  { title: 'Responsabile Acquisti', ...MANAGER, role: SOURCING },
  { title: 'Responsabile Contabilità Fornitori', ...AP, role: AP_ROLE },
  { title: 'Responsabile Controllo di Gestione', ...AP, role: AP_ROLE },
  { title: 'Direttore Sostenibilità', ...ESG, role: ESG_ROLE },
  { title: 'Direttore Finanziario', ...FINANCE, role: FINANCE_ROLE },
  { title: 'Direttore IT', ...NO_PERSONA, role: IT_ROLE },
];

const DUTCH: TitleCase[] = [
  { title: 'Hoofd Inkoop', ...VP_PROCUREMENT, role: LEADERSHIP },
  { title: 'Inkoopdirecteur', ...DIRECTOR, role: LEADERSHIP },
  { title: 'Inkoopmanager', ...MANAGER, role: SOURCING },
  { title: 'Strategisch Inkoper', ...MANAGER, role: SOURCING },
  { title: 'Teamleider Crediteurenadministratie', ...AP, role: AP_ROLE },
  { title: 'Hoofd Duurzaamheid', ...ESG, role: ESG_ROLE },
  { title: 'Financieel Directeur', ...FINANCE, role: FINANCE_ROLE },
  { title: 'Hoofd IT', ...NO_PERSONA, role: IT_ROLE },
];

/**
 * Titles that share a word with a buying role but name a student, an
 * assistant, a seller or something else.
 */
const FALSE_POSITIVES: TitleCase[] = [
  { title: 'Einkaufswagen', ...NO_PERSONA, role: undefined },
  { title: 'Leiter Einkaufszentrum', ...NO_PERSONA, role: undefined },
  { title: 'Sachbearbeiter Einkauf', ...NO_PERSONA, role: undefined },
  { title: 'Einkaufsassistentin', ...NO_PERSONA, role: undefined },
  { title: 'Purchasing Assistant', ...NO_PERSONA, role: undefined },
  { title: 'Assistante achats', ...NO_PERSONA, role: undefined },
  { title: 'Executive Assistant to the CFO', ...ASSISTANT, role: undefined },
  { title: 'Personal Assistant to the CPO', ...ASSISTANT, role: undefined },
  { title: 'Assistante DAF', ...ASSISTANT, role: undefined },
  { title: 'Assistentin der Geschäftsführung', ...ASSISTANT, role: undefined },
  { title: 'Assistenz der Einkaufsleitung', ...ASSISTANT, role: undefined },
  { title: 'Asistente de Dirección', ...ASSISTANT, role: undefined },
  { title: 'Assistente di Direzione', ...ASSISTANT, role: undefined },
  { title: 'PA to the CPO', ...ASSISTANT, role: undefined },
  { title: 'Secretary to the CFO', ...ASSISTANT, role: undefined },
  {
    title: 'Executive Secretary to the Chief Procurement Officer',
    ...ASSISTANT,
    role: undefined,
  },
  { title: 'Sekretärin der Einkaufsleitung', ...ASSISTANT, role: undefined },
  { title: 'Sekretaer des Finanzvorstands', ...ASSISTANT, role: undefined },
  { title: 'Vorstandssekretärin', ...ASSISTANT, role: undefined },
  {
    title: 'Secrétaire du directeur des achats',
    ...ASSISTANT,
    role: undefined,
  },
  {
    title: 'Secretaria del Director de Compras',
    ...ASSISTANT,
    role: undefined,
  },
  { title: 'Segretaria del Direttore Acquisti', ...ASSISTANT, role: undefined },
  { title: 'Directiesecretaresse Inkoop', ...ASSISTANT, role: undefined },
  { title: 'Generalsekretär', ...NO_PERSONA, role: undefined },
  { title: 'Company Secretary', ...NO_PERSONA, role: undefined },
  { title: 'Buyer Intern', ...STUDENT, role: undefined },
  { title: 'Procurement Intern', ...STUDENT, role: undefined },
  { title: 'Controlling Werkstudent', ...STUDENT, role: undefined },
  { title: 'Praktikant Einkauf', ...STUDENT, role: undefined },
  { title: 'Werkstudentin Einkauf', ...STUDENT, role: undefined },
  { title: 'Stagiaire achats', ...STUDENT, role: undefined },
  { title: 'Becario de Compras', ...STUDENT, role: undefined },
  { title: 'Stagista Acquisti', ...STUDENT, role: undefined },
  { title: 'Stagiair Inkoop', ...STUDENT, role: undefined },
  { title: 'Director of Sales', ...NO_PERSONA, role: undefined },
  { title: 'Vertriebsleiter', ...NO_PERSONA, role: undefined },
  { title: 'Directeur commercial', ...NO_PERSONA, role: undefined },
  { title: 'Director de Ventas', ...NO_PERSONA, role: undefined },
  { title: 'Direttore Commerciale', ...NO_PERSONA, role: undefined },
  { title: 'Commercieel Directeur', ...NO_PERSONA, role: undefined },
  { title: 'Key Account Manager Procurement', ...NO_PERSONA, role: undefined },
  { title: 'Microcontroller Engineer', ...NO_PERSONA, role: undefined },
];

/** Scores a lead that has only `title` and returns its persona and role. */
function scoreTitle(title: string): Omit<TitleCase, 'title'> {
  const { state, score } = evaluate([identify({ title })], T0);
  const persona = score.fitContributions.find((entry) =>
    entry.ruleId.startsWith('title-'),
  );
  return {
    rule: persona?.ruleId,
    points: persona?.points ?? 0,
    role: roleOf(state, model.accounts as AccountPolicy),
  };
}

describe('procurement-software model', () => {
  it('qualifies a CPO at a large manufacturer who asks for a demo', () => {
    const { state, score } = evaluate(
      [
        identify({
          title: 'Chief Procurement Officer',
          email: 'cpo@acme.example',
          'company.industry': 'Manufacturing',
          'company.employee_count': 25_000,
        }),
        page('/pricing'),
        track('Demo Requested'),
      ],
      T0,
    );

    expect(score.fit).toBe(60);
    expect(score.intent).toBe(65);
    expect(state.status).toBe('mql');
  });

  it('never qualifies a student who reads every page', () => {
    const { state, score } = evaluate([
      identify({ title: 'MBA Student', email: 'kim@stanford.edu' }),
      ...readsEverything(),
      track('Demo Requested'),
    ]);

    expect(score.score).toBeGreaterThan(100);
    expect(score.fit).toBeLessThan(model.qualification.minimumFit);
    expect(state.status).toBe('engaged');
  });

  it('keeps a competitor below the minimum fit', () => {
    const { state } = evaluate([
      identify({
        title: 'VP Procurement',
        email: 'ann@eu.coupa.com',
        'company.employee_count': 5000,
      }),
      ...readsEverything(),
    ]);

    expect(state.status).toBe('engaged');
  });

  it('counts three blog reads per 30 days', () => {
    const reads = Array.from({ length: 10 }, (_, i) => page(`/blog/${i}`, 1));

    const { score } = evaluate(reads, T0 + DAY_MS);

    expect(score.intentContributions[0]).toMatchObject({
      ruleId: 'blog-read',
      matched: 10,
      counted: 3,
    });
  });

  it('scores an analyst report and a due-diligence guide', () => {
    const { score } = evaluate(
      [
        track('Content Downloaded', {
          asset: 'Gartner Magic Quadrant for Procure-to-Pay Suites',
        }),
        track('Content Downloaded', {
          asset: 'LkSG supplier due diligence checklist',
        }),
        track('Meeting Booked', { conference: 'ProcureCon Europe' }),
      ],
      T0,
    );

    expect(score.intentContributions.map((c) => c.ruleId)).toEqual([
      'conference-meeting-booked',
      'analyst-report-download',
      'supplier-due-diligence-download',
    ]);
  });

  it.each([
    { email: 'cpo@acme.example', business: true },
    { email: 'cpo@acme.example.', business: true },
    { email: 'cpo@acme\u3002example', business: true },
    { email: 'cpo@acme.xn--p1ai', business: true },
    { email: 'cpo@\u0430\u043a\u043c\u0435.\u0440\u0444', business: true },
    { email: 'cpo@acme.example..', business: false },
    { email: 'cpo@..example', business: false },
    { email: 'cpo@.acme.example', business: false },
    { email: 'cpo@acme..example', business: false },
    { email: 'cpo@xn--.example', business: false },
    { email: 'cpo@-acme.example', business: false },
    { email: 'cpo@acme-.example', business: false },
    { email: 'cpo@acme.xn--', business: false },
    { email: 'cpo@ac_me.example', business: false },
    { email: 'cpo@ac!me.example', business: false },
    { email: 'cpo-.team@acme.example', business: true },
    { email: 'cpo@sub.acme-corp.co.uk', business: true },
    { email: 'cpo@acme.c0m', business: false },
    { email: 'cpo@ac\u200bme.example', business: false },
    { email: 'cpo@\u202eelpmaxe.acme', business: false },
    { email: 'cpo\u0000@acme.example', business: false },
  ])('reads $email as business: $business', ({ email, business }) => {
    const { score } = evaluate([identify({ email })], T0);
    const rules = score.fitContributions.map((entry) => entry.ruleId);

    expect(rules.includes('email-business')).toBe(business);
  });

  it.each([
    { title: 'AP Director', ruleId: 'title-ap-or-controller' },
    { title: 'Director of AP', ruleId: 'title-ap-or-controller' },
    { title: 'Accounts Payable Manager', ruleId: 'title-ap-or-controller' },
    { title: 'Financial Controller', ruleId: 'title-ap-or-controller' },
    {
      title: 'Purchasing Director',
      ruleId: 'title-director-strategic-sourcing',
    },
    { title: 'Category Director', ruleId: 'title-director-strategic-sourcing' },
    {
      title: 'Procurement Director',
      ruleId: 'title-director-strategic-sourcing',
    },
  ])('scores the title $title as $ruleId', ({ title, ruleId }) => {
    const { score } = evaluate([identify({ title })], T0);
    const titles = score.fitContributions
      .map((entry) => entry.ruleId)
      .filter((id) => id.startsWith('title-'));

    expect(titles).toEqual([ruleId]);
  });

  it.each([
    ...ENGLISH_VARIANTS,
    ...GERMAN,
    ...FRENCH,
    ...SPANISH,
    ...ITALIAN,
    ...DUTCH,
  ])('reads the title $title as $rule', ({ title, rule, points, role }) => {
    const scored = scoreTitle(title);

    expect(scored.rule).toBe(rule);
    expect(scored.points).toBe(points);
    expect(scored.role).toBe(role);
  });

  it.each(FALSE_POSITIVES)(
    'keeps $title out of the buyers',
    ({ title, rule, points, role }) => {
      const scored = scoreTitle(title);

      expect(scored.rule).toBe(rule);
      expect(scored.points).toBe(points);
      expect(scored.role).toBe(role);
    },
  );

  it.each(model.document.accounts?.roles ?? [])(
    'keeps non-buyers out of the role $id',
    ({ titlePattern }) => {
      const nonBuyerPatterns = ['title-student-or-intern', 'title-assistant']
        .map((id) => model.document.fit.rules.find((rule) => rule.id === id))
        .map((rule) => rule?.pattern);

      expect(
        titlePattern.startsWith(`^(?!.*(?:${nonBuyerPatterns.join('|')}))`),
      ).toBe(true);
    },
  );

  it('keeps the maximum fit below the recycle level', () => {
    expect(maximumFit(model)).toBeLessThan(model.qualification.recycleBelow);
  });

  it('scores personal mailboxes as accounts treat them', () => {
    const policy = model.accounts as AccountPolicy;
    const domains = [...policy.personalEmailDomains];
    const mismatches = domains.filter((domain) => {
      const { state } = evaluate([identify({ email: `ann@${domain}` })]);
      return state.lastScore?.fit !== -10;
    });

    expect(mismatches).toEqual([]);
  });

  it.each([
    'hotmail.de',
    'outlook.de',
    'outlook.fr',
    'live.co.uk',
    'yahoo.es',
    'gmx.at',
    'laposte.net',
    'bluewin.ch',
  ])('forms no account from %s', (domain) => {
    const events = [identify({ email: `ann@${domain}`, title: 'CPO' })];
    const { state } = evaluate(events);

    expect(state.lastScore?.fit).toBe(20);
    expect(accountOf(state, model.accounts as AccountPolicy)).toBeUndefined();
  });

  it.each([
    'Chief  Procurement Officer',
    'Chief\u00a0Procurement Officer',
    'Chief\tProcurement\nOfficer',
    ' Chief \u2003 Procurement Officer ',
  ])('reads white space in %j as one space', (title) => {
    const { state, score } = evaluate([identify({ title })]);
    const fitRules = score.fitContributions.map((c) => c.ruleId);

    expect(fitRules).toEqual(['title-chief-procurement-officer']);
    expect(roleOf(state, model.accounts as AccountPolicy)).toBe(
      'procurement-leadership',
    );
  });

  it('reads white space in a listed value as one space', () => {
    const { score } = evaluate([
      identify({ 'company.industry': 'Food  &\u00a0Beverage' }),
    ]);
    const fitRules = score.fitContributions.map((c) => c.ruleId);

    expect(fitRules).toEqual(['industry-direct-spend-heavy']);
  });

  it('matches remembered fit texts again', () => {
    // The second round reads every text back from the memos.
    const traits = [
      {
        title: 'Chief\u00a0 Procurement Officer',
        'company.industry': 'Food  &\u00a0Beverage',
      },
      {
        title: 'Chief Procurement Officer',
        'company.industry': 'Food & Beverage',
      },
    ];
    for (let round = 0; round < 2; round += 1) {
      for (const lead of traits) {
        const { score } = evaluate([identify(lead)]);
        const fitRules = score.fitContributions.map((c) => c.ruleId);

        expect(fitRules).toContain('title-chief-procurement-officer');
        expect(fitRules).toContain('industry-direct-spend-heavy');
      }
    }
  });

  it('shows its version in the README examples', () => {
    const readme = readFileSync(
      new URL('../../README.md', import.meta.url),
      'utf8',
    );
    const versions = [...readme.matchAll(/"modelVersion": "(\w+)"/g)].map(
      (match) => match[1],
    );

    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions)).toEqual(new Set([model.version]));
  });

  it('is documented rule by rule in the README', () => {
    const readme = readFileSync(
      new URL('../../README.md', import.meta.url),
      'utf8',
    );
    const ids = [
      ...model.fitRules.map((rule) => rule.id),
      ...model.intentRules.map((rule) => rule.id),
    ];

    expect(ids.filter((id) => !readme.includes(`\`${id}\``))).toEqual([]);
  });
});
