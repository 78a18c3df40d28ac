/** What explain() returns: plain words for a person, no stack trace. */
export interface Explanation {
  code: string;
  title: string;
  cause: string;
  hint: string;
  /** Optional extra block, e.g. `file:line:column` with the offending line and a caret. */
  detail?: string;
}

/** The facts of an error, normalised from ChatgeniusError, pg DatabaseError or a Node system error. */
export interface ErrorFacts {
  code: string;
  message: string;
  /** ChatgeniusError.details, or the pg / Node error's own fields (position, detail, hostname, path...). */
  details: Record<string, unknown>;
}

export type ExplainEntry = (facts: ErrorFacts) => Omit<Explanation, 'code'>;
/** One domain's share of the single explain() table. */
export type ExplainTable = Record<string, ExplainEntry>;
