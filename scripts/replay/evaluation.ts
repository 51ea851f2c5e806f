import type { LeadStatus } from '../../functions/domain/lead.js';
import { areaUnderRoc } from './auc.js';

/** A lead's final score and status with its known outcome. */
export interface LabelledLead {
  score: number;
  status: LeadStatus;
  converted: boolean;
}

/** Ranking quality of final scores and MQL status against known outcomes. */
export interface Evaluation {
  /** Leads with a label and a score from the leads API. */
  leads: number;
  converted: number;
  /** Area under the ROC curve of the scores; null when undefined. */
  auc: number | null;
  /** Reason the AUC is null, such as a single class. */
  aucUndefinedReason?: string;
  mqls: number;
  convertedMqls: number;
  /** Share of all leads that converted. */
  conversionRate: number | null;
  /** Share of the MQLs that converted; null without MQLs. */
  mqlConversionRate: number | null;
  /** MQL conversion rate divided by the overall rate. */
  lift: number | null;
}

/** Computes AUC, conversion rates and lift of labelled leads. */
export function evaluateLeads(leads: readonly LabelledLead[]): Evaluation {
  const converted = leads.filter((lead) => lead.converted).length;
  const mqls = leads.filter((lead) => lead.status === 'mql');
  const convertedMqls = mqls.filter((lead) => lead.converted).length;
  const conversionRate = ratio(converted, leads.length);
  const mqlConversionRate = ratio(convertedMqls, mqls.length);
  const lift =
    mqlConversionRate === null || !conversionRate
      ? null
      : mqlConversionRate / conversionRate;
  return {
    leads: leads.length,
    converted,
    ...aucOf(leads),
    mqls: mqls.length,
    convertedMqls,
    conversionRate,
    mqlConversionRate,
    lift,
  };
}

function aucOf(
  leads: readonly LabelledLead[],
): Pick<Evaluation, 'auc' | 'aucUndefinedReason'> {
  try {
    const samples = leads.map((lead) => ({
      score: lead.score,
      positive: lead.converted,
    }));
    return { auc: areaUnderRoc(samples) };
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return { auc: null, aucUndefinedReason: error.message };
  }
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}
