import { renderGraphiQL } from '@graphql-yoga/render-graphiql';

type GraphiQLOptions = NonNullable<Parameters<typeof renderGraphiQL>[0]>;

/** One example operation shown in the explorer, in its own tab. */
export interface ExplorerExample {
  /** The operation name, also how the tab is titled by GraphiQL. */
  name: string;
  /** The whole document: a comment saying what it shows, then one named operation. */
  query: string;
}

/**
 * The example operations the explorer opens with, over the real seeded data. Field names follow the
 * supergraph; an end-to-end test can run each one through the gateway to keep them from drifting.
 */
export const EXPLORER_EXAMPLES: readonly ExplorerExample[] = Object.freeze([
  {
    name: 'MoroccoCommitments',
    query: dedent(/* GraphQL */ `
      # Morocco's OGP commitments, their lead institutions and how far they got
      query MoroccoCommitments {
        commitments(first: 5, filter: { country: "MA" }) {
          totalCount
          nodes {
            id
            title
            actionPlan {
              id
              startYear
              endYear
              member {
                name
                country
              }
            }
            leadOrganization {
              name
              kind
            }
            assessment {
              potentialImpact
              completionEndOfTerm
            }
            source {
              dataset
              url
              record
            }
          }
        }
      }
    `),
  },
  {
    name: 'BouAradaBudget2018',
    query: dedent(/* GraphQL */ `
      # Bou Arada (Tunisia) municipal budget 2018: totals to the millime, and a few lines in Arabic
      query BouAradaBudget2018 {
        budgets(filter: { organizationId: "tn-municipality-34012", fiscalYear: 2018 }) {
          nodes {
            id
            fiscalYear
            currency
            organization {
              name
              names {
                ar
                fr
              }
            }
            approvedExpenditure: total(direction: EXPENDITURE, phase: APPROVED) {
              amount
              currency
            }
            executedExpenditure: total(direction: EXPENDITURE, phase: EXECUTED) {
              amount
              currency
            }
            lines(first: 5) {
              nodes {
                code
                label
                amounts {
                  phase
                  amount {
                    amount
                    currency
                  }
                  asOf
                }
              }
            }
          }
        }
      }
    `),
  },
  {
    name: 'ElKef',
    query: dedent(/* GraphQL */ `
      # El Kef (Tunisia), an OGP Local member: its action plans and commitments
      query ElKef {
        organization(id: "tn-municipality-33011") {
          name
          names {
            ar
            fr
            en
          }
          kind
          classification
          ogpMembership {
            type
            joined
          }
          identifiers {
            scheme
            value
          }
          actionPlans {
            id
            startYear
            endYear
            submittedOn
            commitments(first: 10) {
              nodes {
                id
                title
              }
            }
          }
        }
      }
    `),
  },
]);

/** Strips the indentation an inline operation has in this file, and the blank lines around it. */
function dedent(text: string): string {
  const lines = text.replace(/^\s*\n|\n\s*$/g, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n') + '\n';
}

// Three linked nodes: organizations, commitments, budgets. Inline SVG, so nothing is fetched.
const LOGO =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">' +
  '<g stroke="#1f6f8b" stroke-width="2"><line x1="8" y1="24" x2="16" y2="8"/><line x1="16" y1="8" x2="24" y2="24"/>' +
  '<line x1="8" y1="24" x2="24" y2="24"/></g><g fill="#e4572e"><circle cx="16" cy="8" r="4"/>' +
  '<circle cx="8" cy="24" r="4"/><circle cx="24" cy="24" r="4"/></g></svg>';

const FAVICON = `data:image/svg+xml,${encodeURIComponent(LOGO)}`;

/**
 * Renders the gateway's GraphiQL explorer as one self-contained HTML page. Every script, style sheet, editor
 * worker and icon is inlined (the GraphiQL bundle of `@graphql-yoga/render-graphiql`, about 9 MB), so the
 * page works with no network access beyond the GraphQL endpoint itself. It opens with one tab per example in
 * {@link EXPLORER_EXAMPLES}; a new tab starts with all of them, to pick from with the run button.
 *
 * Render it once at startup and reuse the string: building it copies the whole bundle. The service serves it
 * with a Content-Security-Policy that lets exactly its inline script run, by the script's hash, computed from
 * this string when the service starts (common/src/http-security.ts `landingPagePolicy`): anything added here
 * as an inline `<script>` is allowed by that same computation, and nothing injected later runs.
 *
 * @param opts.endpoint where the explorer sends operations: a path such as `/graphql` (resolved against the
 *   page's own URL) or an absolute URL.
 */
export function renderExplorer(opts: { endpoint: string }): string {
  const options: GraphiQLOptions = {
    title: 'Civic Graph explorer',
    endpoint: opts.endpoint,
    logo: LOGO,
    favicon: FAVICON,
    defaultQuery: EXPLORER_EXAMPLES.map((e) => e.query).join('\n'),
    defaultTabs: EXPLORER_EXAMPLES.map((e) => ({ query: e.query, variables: null, headers: null })),
    defaultEditorToolsVisibility: false,
  };
  return escapeInlineOptions(renderGraphiQL(options), options);
}

/**
 * The renderer writes `JSON.stringify(options)` straight into an inline `<script>`, so a `<` in any option
 * (an endpoint containing `</script>`, say) could end the script early. Every `<` in JSON output sits inside
 * a string literal, where `\u003c` means the same character, so escaping them keeps the options intact.
 */
function escapeInlineOptions(html: string, options: GraphiQLOptions): string {
  const json = JSON.stringify(options);
  if (!json.includes('<')) return html;
  const at = html.lastIndexOf(json);
  if (at < 0) {
    throw new Error(
      'renderExplorer: the GraphiQL renderer no longer inlines its options as JSON; cannot escape them',
    );
  }
  return html.slice(0, at) + json.replace(/</g, '\\u003c') + html.slice(at + json.length);
}
