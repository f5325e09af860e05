import type { IncomingHttpHeaders } from 'node:http';
import type { ExportLimits } from '@civic/common/config';
import { ExportError } from './errors';

/** The headers Apollo Server's CSRF prevention accepts as proof of a preflight (its recommended set). */
export const PREFLIGHT_HEADERS = ['x-apollo-operation-name', 'apollo-require-preflight'] as const;

/** The content types a page may send without a CORS preflight (the CORS-safelisted ones). */
const SIMPLE_CONTENT_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);

/**
 * Apollo Server's own test (`preventCsrf` in @apollo/server), for `/graphql`: a request was preflighted, so
 * a browser asked our CORS policy before sending it, when it has a content type that is not one of the
 * CORS-safelisted ones (an unparsable one counts as preflighted, as in Apollo) or a non-empty
 * `x-apollo-operation-name` or `apollo-require-preflight` header.
 */
export function preflighted(headers: IncomingHttpHeaders): boolean {
  const contentType = headers['content-type'];
  if (contentType !== undefined) {
    const essence = contentType.split(';')[0].trim().toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(essence)) return true;
    if (!SIMPLE_CONTENT_TYPES.has(essence)) return true;
  }
  return PREFLIGHT_HEADERS.some((name) => {
    const value = headers[name];
    return typeof value === 'string' ? value.length > 0 : Array.isArray(value) && value.some((v) => v.length);
  });
}

/**
 * CSRF prevention for the export endpoints: throws an {@link ExportError} (400, naming the header to send)
 * for an export a foreign page could have made a visitor's browser run, with `<img src>`, `<script src>`,
 * a form or a link:
 *
 * - A preflighted request ({@link preflighted}, Apollo's rule for `/graphql`) is always allowed: the
 *   command line's JSON `POST`, `fetch` with `apollo-require-preflight: true`.
 * - Otherwise a browser's Fetch Metadata decides: `Sec-Fetch-Site: same-origin` (the gateway's own explorer)
 *   or `none` (an address typed, bookmarked or opened from another program) is the visitor's own doing and
 *   allowed. From another site (`cross-site`, `same-site`), only a saved query may be downloaded, and only by
 *   following a link (`Sec-Fetch-Mode: navigate`, `Sec-Fetch-Dest: document`): a newsroom's "download the
 *   data" link keeps working, for a fixed, known, bounded document; an `<img>`, a script or an iframe does not,
 *   and neither does any query of the page's own making.
 * - A request with no Fetch Metadata is not from a current browser (curl, a script) and is allowed in the
 *   `fetch-metadata` mode (the default); in `require-header` mode a query export then needs the header too,
 *   exactly as Apollo requires of a GET to `/graphql` (which also covers browsers too old to send Fetch
 *   Metadata: before Chrome 76, Firefox 90, Safari 16.4). Saved queries stay downloadable by a plain link.
 */
export function preventExportCsrf(
  headers: IncomingHttpHeaders,
  request: { saved: boolean },
  mode: ExportLimits['csrf'],
): void {
  if (preflighted(headers)) return;
  const site = single(headers['sec-fetch-site'])?.toLowerCase();
  if (site === 'same-origin' || site === 'none') return;
  const what = request.saved ? 'This download of a saved query' : 'This export';
  if (site !== undefined) {
    const link =
      single(headers['sec-fetch-mode'])?.toLowerCase() === 'navigate' &&
      single(headers['sec-fetch-dest'])?.toLowerCase() === 'document';
    if (request.saved && link) return;
    throw blocked(
      `${what} was blocked as a potential cross-site request forgery (CSRF): it was sent by a page of another ` +
        `site (Sec-Fetch-Site: ${site}) without a header a page cannot add unless the gateway allows it`,
    );
  }
  if (mode === 'fetch-metadata' || request.saved) return;
  throw blocked(
    `${what} was blocked as a potential cross-site request forgery (CSRF): exports of a query need a header ` +
      'a page cannot add unless the gateway allows it (EXPORT_CSRF=require-header)',
  );
}

function blocked(why: string): ExportError {
  return new ExportError(
    `${why}. Send the header \`apollo-require-preflight: true\` (or \`x-apollo-operation-name\`), or POST the ` +
      'parameters as JSON with `Content-Type: application/json`, as /graphql requires; a saved query ' +
      '(`name=`) can also be downloaded by following a link',
  );
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
