/** A score and the outcome it is judged against. */
export interface LabelledScore {
  score: number;
  positive: boolean;
}

/**
 * Computes the area under the ROC curve from the Mann-Whitney U statistic:
 * the probability that a random positive scores higher than a random
 * negative, with a tie counting one half. Tied scores share the mean of
 * their ranks, so an all-equal list yields 0.5.
 *
 * @throws RangeError when a class is empty or a score is not finite,
 *   because the AUC is undefined then.
 */
export function areaUnderRoc(samples: readonly LabelledScore[]): number {
  const positives = samples.filter((sample) => sample.positive).length;
  const negatives = samples.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new RangeError(
      `The AUC needs positive and negative samples, got ${positives} ` +
        `positive and ${negatives} negative.`,
    );
  }
  const invalid = samples.find((sample) => !Number.isFinite(sample.score));
  if (invalid !== undefined) {
    throw new RangeError(`Every score must be finite, got ${invalid.score}.`);
  }
  const u = positiveRankSum(samples) - (positives * (positives + 1)) / 2;
  return u / (positives * negatives);
}

/** Sums the 1-based ranks of the positives, giving ties their mean rank. */
function positiveRankSum(samples: readonly LabelledScore[]): number {
  const sorted = [...samples].sort((a, b) => a.score - b.score);
  let sum = 0;
  let start = 0;
  while (start < sorted.length) {
    const score = sorted[start]?.score;
    let end = start;
    while (sorted[end + 1]?.score === score) {
      end += 1;
    }
    const meanRank = (start + end) / 2 + 1;
    for (let index = start; index <= end; index += 1) {
      if (sorted[index]?.positive) sum += meanRank;
    }
    start = end + 1;
  }
  return sum;
}
