/**
 * A sequential specification, in the small shape Porcupine uses: the checker knows nothing about
 * KV stores, only how to step a model and compare states.
 */
export interface Model<S, I, O> {
  init(): S;
  /** Applies `input` to `state`; ok is false when `output` is impossible from `state`. */
  step(state: S, input: I, output: O): [ok: boolean, next: S];
  equal(a: S, b: S): boolean;
  /**
   * Optional hash consistent with `equal`. The search memoizes (linearized set, state) pairs;
   * without a hash every state lands in one bucket per set, which is correct but slower.
   */
  hash?(state: S): number;
  /** One line for reports, e.g. `put "a"` or `get → "a"`. */
  describe(input: I, output: O): string;
  describeState(state: S): string;
}
