/**
 * A frozen copy of the scoring core (applying events, scoring,
 * qualification and explanation) as it was before it was optimized for
 * speed. Property tests run random event streams through it and through
 * functions/domain, and expect identical states, outcomes, scores,
 * transitions and explanations. Do not change these files to follow
 * changes of the domain: a change of scoring results must show up as a
 * failing comparison, and then replace this copy on purpose.
 */
export { explainScore } from './explanation.js';
export { applyEvents, newLead } from './lead.js';
export {
  catchUpReviews,
  evaluateLead,
  recycleBySales,
} from './qualification.js';
