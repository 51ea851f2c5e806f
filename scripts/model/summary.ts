import type { ScoringModel } from '../../functions/domain/model.js';
import type { ModelWarning } from '../../functions/domain/model-check.js';
import { maximumFit } from '../../functions/domain/model-check.js';

type IntentRuleDocument = ScoringModel['document']['intent']['rules'][number];
type FitRuleDocument = ScoringModel['document']['fit']['rules'][number];

/** Formats a valid model as the summary `model check` prints. */
export function formatModelSummary(
  file: string,
  model: ScoringModel,
  warnings: readonly ModelWarning[],
): string {
  const { document, qualification } = model;
  const lines = [
    `${file}: valid model "${model.name}", version ${model.version}`,
    '',
    `Fit rules (${document.fit.rules.length}; the first match of a group counts; maximum fit ${maximumFit(model)}):`,
    ...document.fit.rules.map(fitLine),
    '',
    `Intent rules (${document.intent.rules.length}; each event scores under the first match; retention ${document.intent.retentionPerQuarter} per quarter):`,
    ...document.intent.rules.map((rule) =>
      intentLine(rule, document.intent.retentionPerQuarter),
    ),
    '',
    'Qualification:',
    `  MQL at ${qualification.threshold} points with a fit of at least ${qualification.minimumFit}; ` +
      `recycled below ${qualification.recycleBelow}; qualifies again after ${qualification.cooldownDays} days and new activity`,
    '',
    'Quarantine:',
    ...quarantineLines(model),
    '',
    'Accounts:',
    ...accountLines(model),
  ];
  if (warnings.length > 0) {
    lines.push('', `Warnings (${warnings.length}):`);
    for (const warning of warnings) {
      lines.push(`  ${warning.field}: ${warning.message}`);
    }
  }
  return `${lines.map((line) => line.trimEnd()).join('\n')}\n`;
}

/** Maximum length of a pattern in the summary. Longer ones are cut. */
const MAX_PATTERN_LENGTH = 60;

function fitLine(rule: FitRuleDocument): string {
  const group = rule.group ?? '-';
  return `  ${pad(signed(rule.points), 5)} ${pad(rule.id, 34)} ${pad(group, 13)} ${condition(rule)} on ${rule.traits.join(' | ')}`;
}

function condition(rule: FitRuleDocument): string {
  if (rule.pattern !== undefined) return patternText(rule.pattern);
  if (rule.oneOf?.length === 1) return `equal to "${rule.oneOf[0]}"`;
  if (rule.oneOf !== undefined) return `one of ${rule.oneOf.length} values`;
  if (rule.domains !== undefined) {
    return `${rule.domains.length} domains such as ${rule.domains[0]}`;
  }
  const { min, max } = rule.range ?? {};
  return `range [${min ?? '-inf'}, ${max ?? 'inf'})`;
}

function patternText(pattern: string): string {
  return pattern.length > MAX_PATTERN_LENGTH
    ? `pattern /${pattern.slice(0, MAX_PATTERN_LENGTH)}…/`
    : `pattern /${pattern}/`;
}

function intentLine(rule: IntentRuleDocument, retention: number): string {
  const notes: string[] = [];
  if (rule.cap !== undefined) {
    notes.push(
      rule.cap.windowDays === undefined
        ? `at most ${rule.cap.max} per lead`
        : `at most ${rule.cap.max} per ${rule.cap.windowDays} days`,
    );
  }
  const own = rule.retentionPerQuarter;
  if (rule.points < 0) {
    notes.push('no decay');
  } else if (own !== undefined && own !== retention) {
    notes.push(`retention ${own}`);
  }
  const suffix = notes.length > 0 ? ` (${notes.join(', ')})` : '';
  return `  ${pad(signed(rule.points), 5)} ${pad(rule.id, 34)}${suffix}`;
}

function quarantineLines(model: ScoringModel): string[] {
  const { emailClicks, emailOpens } = model.document.quarantine;
  const clicks = emailClicks.events.join(', ');
  const deliveryTimes = emailClicks.deliveryTimeProperties.join(' | ');
  const proxyFlags = emailOpens.proxyFlagProperties.join(' | ');
  const proxySigns =
    proxyFlags === '' ? 'user agent' : `user agent or ${proxyFlags}`;
  return [
    '  behaviour events whose context.userAgent matches the bot pattern',
    deliveryTimes === ''
      ? `  ${clicks}: no delivery time property, so no click is quarantined for its delay after delivery`
      : `  ${clicks} less than ${emailClicks.minSecondsAfterDelivery} s after ${deliveryTimes}`,
    `  ${emailClicks.burstClicksPerSecond} or more email clicks of a lead within one second`,
    `  ${emailOpens.events.join(', ')} from a privacy proxy (${proxySigns})`,
  ];
}

function accountLines(model: ScoringModel): string[] {
  const { accounts } = model.document;
  if (accounts === undefined) return ['  none; no lead rolls up to an account'];
  const { qualification } = accounts;
  const fit =
    accounts.fitGroups.length > 0
      ? `the best fit of groups ${accounts.fitGroups.join(', ')}`
      : 'no fit';
  return [
    ...accounts.roles.map(
      (role) => `  role ${pad(role.id, 22)} ${patternText(role.titlePattern)}`,
    ),
    `  MQA at ${qualification.threshold} points (${fit} plus the intent of the ${accounts.engagementLeads} most engaged leads); recycled below ${qualification.recycleBelow}`,
    `  ${roleRequirement(accounts)}`,
  ];
}

type AccountsDocument = NonNullable<ScoringModel['document']['accounts']>;

function roleRequirement(accounts: AccountsDocument): string {
  const { requiredRoles, minimumRoles } = accounts.qualification;
  const parts: string[] = [];
  if (requiredRoles.length === 1) parts.push(`role ${requiredRoles[0]}`);
  if (requiredRoles.length > 1) parts.push(`roles ${requiredRoles.join(', ')}`);
  if (minimumRoles > 0) parts.push(`at least ${minimumRoles} roles in all`);
  if (parts.length === 0) return 'needs no role';
  return `needs ${parts.join(' and ')}, each with a lead of intent ${accounts.engagedIntent} or more`;
}

function signed(points: number): string {
  return points > 0 ? `+${points}` : String(points);
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}
