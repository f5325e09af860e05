import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header the Civic Graph signs its calls with. */
export const SIGNATURE_HEADER = 'x-civic-signature';

/** How old a signature may be, in seconds, before it is refused (either way: clocks drift). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** Why a request's signature was refused. */
export type SignatureFailure = 'missing' | 'malformed' | 'wrong' | 'expired';

/** The outcome of checking one request's signature. */
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure; message: string };

/** The hex HMAC-SHA256 of `"<t>.<raw body>"` under the secret: what `v1=` carries. */
export function signatureDigest(secret: string, timestamp: number, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/**
 * The header value the Civic Graph sends, `t=<unix seconds>,v1=<hex HMAC>`. This subgraph never signs
 * anything itself; its tests use this to call it the way the gateway does.
 */
export function signatureHeader(
  secret: string,
  rawBody: Buffer | string,
  timestamp = Math.floor(Date.now() / 1000),
): string {
  return `t=${timestamp},v1=${signatureDigest(secret, timestamp, rawBody)}`;
}

/**
 * Checks the `x-civic-signature` header of a request against the raw bytes of its body (empty for a GET):
 * `t=<unix seconds>,v1=<64 hex digits>`, other `key=value` parts ignored. The digest is compared in constant
 * time, and a timestamp more than 300 s away from `now` is refused, so a captured request cannot be replayed
 * later.
 */
export function verifySignature(
  header: string | string[] | undefined,
  rawBody: Buffer,
  secret: string,
  now: number = Date.now(),
): SignatureCheck {
  if (header === undefined || header === '') {
    return { ok: false, reason: 'missing', message: `missing ${SIGNATURE_HEADER} header` };
  }
  const malformed: SignatureCheck = {
    ok: false,
    reason: 'malformed',
    message: `malformed ${SIGNATURE_HEADER} header: expected t=<unix seconds>,v1=<64 hex digits>`,
  };
  // Two headers of the same name would arrive as one joined value or as an array: either way, refuse.
  if (Array.isArray(header)) return malformed;
  const parts = new Map<string, string>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return malformed;
    const key = part.slice(0, eq).trim();
    if (parts.has(key)) return malformed;
    parts.set(key, part.slice(eq + 1).trim());
  }
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (t === undefined || v1 === undefined || !/^\d{1,12}$/.test(t) || !/^[0-9a-fA-F]{64}$/.test(v1)) {
    return malformed;
  }
  const timestamp = Number(t);
  const age = Math.floor(now / 1000) - timestamp;
  if (Math.abs(age) > SIGNATURE_TOLERANCE_SECONDS) {
    return {
      ok: false,
      reason: 'expired',
      message:
        age > 0
          ? `expired ${SIGNATURE_HEADER}: signed ${age} s ago, signatures are valid for ${SIGNATURE_TOLERANCE_SECONDS} s`
          : `${SIGNATURE_HEADER} timestamp is ${-age} s in the future (more than ${SIGNATURE_TOLERANCE_SECONDS} s): check the clocks`,
    };
  }
  const expected = Buffer.from(signatureDigest(secret, timestamp, rawBody), 'hex');
  const given = Buffer.from(v1, 'hex');
  if (!timingSafeEqual(expected, given)) {
    return {
      ok: false,
      reason: 'wrong',
      message: `wrong ${SIGNATURE_HEADER}: the signature does not match the request`,
    };
  }
  return { ok: true };
}
