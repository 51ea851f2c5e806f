import type { ScoringModel } from '../domain/model.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { LeadRepository } from '../ports/lead-repository.js';
import type { Log } from '../ports/logger.js';

/** What the use cases need from the outside world. */
export interface ScoringDependencies {
  repository: LeadRepository;
  publisher: EventPublisher;
  model: ScoringModel;
  /** Returns the current time in epoch milliseconds. */
  clock: () => number;
  log: Log;
  /** Settings of outgoing event details. @default { includeEmail: false } */
  eventOptions?: EventOptions;
}

/** Stage settings of outgoing event details. */
export interface EventOptions {
  /** Whether lead details carry the lead's email, for CRM sync. */
  includeEmail: boolean;
}
