/** One problem with an export, in the shape of a GraphQL error so clients can read both the same way. */
export interface ExportProblem {
  message: string;
  extensions?: { code: string; [key: string]: unknown };
}

/**
 * Why an export cannot be made (or could not be finished). `status` is the HTTP status to answer with when
 * nothing has been sent yet: 400 for a request the client can fix, 429 for one to retry later, 500 when the
 * graph itself failed. Messages are meant for the client: they name what was wrong and never carry internal
 * details. `headers` go with the refusal (`Retry-After` on a 429).
 */
export class ExportError extends Error {
  readonly status: number;
  readonly problems: readonly ExportProblem[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    problems: string | readonly ExportProblem[],
    status = 400,
    headers: Readonly<Record<string, string>> = {},
  ) {
    const list =
      typeof problems === 'string'
        ? [
            {
              message: problems,
              extensions: { code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR' },
            },
          ]
        : problems;
    super(list.map((p) => p.message).join('; '));
    this.name = 'ExportError';
    this.status = status;
    this.problems = list;
    this.headers = headers;
  }
}
