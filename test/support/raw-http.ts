import { request } from 'node:http';

// Answers read as they came over the wire (status, every header in order with its name as written, the body's
// bytes), to compare two paths of a server byte for byte (test/e2e/early-hits.test.ts, front-graphql.test.ts).

/** A query of one organization by id, answered by both paths. */
export const ORGANIZATION = /* GraphQL */ `
  query Org($id: ID!) {
    organization(id: $id) {
      id
      name
      country
    }
  }
`;

/** A persisted document of the built-in dashboard manifest (gateway/src/persisted/manifests/dashboard.json). */
export const PERSISTED_ID = 'c8842efae69ce4d2a24dcb64eb6318bc783edbeb2acbdf3b7049df55a72014fd';

export interface Raw {
  status: number;
  /** Every header as sent, in order, names as written. */
  headers: [string, string][];
  body: string;
}

/** One request over its own connection, read as it came: the raw header lines and the body's bytes. */
export function send(
  url: string,
  opts: {
    method?: 'GET' | 'POST';
    search?: Record<string, string>;
    headers?: Record<string, string>;
    body?: string;
  },
): Promise<Raw> {
  const u = new URL(url);
  for (const [k, v] of Object.entries(opts.search ?? {})) u.searchParams.set(k, v);
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: opts.method ?? 'GET',
        agent: false,
        headers: {
          ...(opts.body !== undefined
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(opts.body)) }
            : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2)
            headers.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  send(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers });

export const header = (r: Raw, name: string) => r.headers.find(([n]) => n.toLowerCase() === name)?.[1];

/** What may differ between two answers to the same request: the time it was sent, the rate limit window's end. */
export const comparable = (r: Raw) => ({
  ...r,
  headers: r.headers.map(([n, v]) => [n, /^(date|ratelimit-reset)$/i.test(n) ? '…' : v]),
});
