/** One problem with an export, in the shape of a GraphQL error so clients can read both the same way. */
export interface ExportProblem {
  message: string;
  extensions?: { code: string };
}

/**
 * Why an export cannot be made (or could not be finished). `status` is the HTTP status to answer with when
 * nothing has been sent yet: 400 for a request the client can fix, 500 when the graph itself failed. Messages
 * are meant for the client: they name what was wrong and never carry internal details.
 */
export class ExportError extends Error {
  readonly status: number;
  readonly problems: readonly ExportProblem[];

  constructor(problems: string | readonly ExportProblem[], status = 400) {
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
  }
}
