import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed calls to subgraphs (issue 9). Every request the project sends to a subgraph that has a secret carries
 * `x-civic-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, and a subgraph with a
 * secret refuses any request without a valid, recent one: a client cannot reach a subgraph around the gateway
 * (and its limits), and a partner knows a call came from this gateway. The scheme is Stripe's webhook
 * signature, so every language has a few-line verifier; docs/partners.md has a worked example.
 */

/** The header carrying the signature. */
export const SIGNATURE_HEADER = 'x-civic-signature';

/** How old (or how far in the future) a signature's timestamp may be, in seconds. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The current time in unix seconds: what `t=` holds. */
export const unixSeconds = (): number => Math.floor(Date.now() / 1000);

const hmac = (secret: string, t: number | string, body: string | Uint8Array): string =>
  createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');

/**
 * The header value signing `body` (the exact bytes sent; a string is taken as UTF-8) with `secret` at time
 * `now` (unix seconds).
 */
export function sign(secret: string, body: string | Uint8Array, now: number = unixSeconds()): string {
  return `t=${now},v1=${hmac(secret, now, body)}`;
}

/** Why a signature was refused. */
export type SignatureProblem = 'missing' | 'malformed' | 'wrong' | 'expired';

export type Verification = { ok: true } | { ok: false; reason: SignatureProblem; message: string };

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * Checks a signature header against the raw body received. Compares in constant time; accepts several `v1=`
 * values (a signer rotating its secret may send one per secret). The reason says what was wrong: no header,
 * a header not of the form `t=<digits>,v1=<64 hex>`, a signature that does not match this secret and body,
 * or a timestamp more than `toleranceSeconds` from `now` (checked after the signature, so only a signer that
 * holds the secret learns that its clock or its replay is off).
 */
export function verify(
  secret: string,
  header: string | null | undefined,
  rawBody: string | Uint8Array,
  now: number = unixSeconds(),
  toleranceSeconds: number = SIGNATURE_TOLERANCE_SECONDS,
): Verification {
  if (header == null || header.trim() === '') {
    return {
      ok: false,
      reason: 'missing',
      message: `Missing ${SIGNATURE_HEADER} header: this subgraph answers only requests signed by the gateway`,
    };
  }
  // The timestamp as sent: the signed text is "<t>.<body>" with t exactly as the signer wrote it.
  let t: string | undefined;
  const signatures: string[] = [];
  let wellFormed = true;
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (eq < 0) wellFormed = false;
    else if (key === 't' && /^\d{1,12}$/.test(value) && t === undefined) t = value;
    else if (key === 'v1' && HEX_SHA256.test(value)) signatures.push(value);
    else if (key === 't' || key === 'v1') wellFormed = false;
    // Other keys (a future v2) are ignored, as a verifier of this version cannot check them.
  }
  if (!wellFormed || t === undefined || signatures.length === 0) {
    return {
      ok: false,
      reason: 'malformed',
      message: `Malformed ${SIGNATURE_HEADER} header: expected t=<unix seconds>,v1=<hex HMAC-SHA256>`,
    };
  }
  const expected = Buffer.from(hmac(secret, t, rawBody), 'hex');
  if (!signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected))) {
    return {
      ok: false,
      reason: 'wrong',
      message: `Wrong ${SIGNATURE_HEADER}: it does not match the request body signed with this subgraph's secret`,
    };
  }
  const age = now - Number(t);
  if (Math.abs(age) > toleranceSeconds) {
    const when = age > 0 ? `signed ${age} s ago` : `its timestamp is ${-age} s in the future`;
    return {
      ok: false,
      reason: 'expired',
      message: `Expired ${SIGNATURE_HEADER}: ${when}, more than the ${toleranceSeconds} s allowed`,
    };
  }
  return { ok: true };
}

/** The environment variable holding a subgraph's secret: `SUBGRAPH_SECRET_<NAME>`, upper case, `-` as `_`. */
export const secretVariable = (name: string): string =>
  `SUBGRAPH_SECRET_${name.toUpperCase().replace(/-/g, '_')}`;

/** A subgraph's secret from the environment, or null when it has none (unset or empty). */
export function secretFor(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const value = env[secretVariable(name)];
  return value ? value : null;
}

/**
 * The headers that sign `body` for subgraph `name`: `{ 'x-civic-signature': ... }`, or none when the
 * subgraph has no secret. For any caller that sends a subgraph a request (the gateway's fetches, the
 * registry's SDL read, health probes); the body must be the exact string sent (`''` for a GET).
 */
export function signedHeaders(
  name: string,
  body: string | Uint8Array,
  env: NodeJS.ProcessEnv = process.env,
  now?: number,
): Record<string, string> {
  const secret = secretFor(name, env);
  return secret ? { [SIGNATURE_HEADER]: sign(secret, body, now) } : {};
}
