import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * An API key as its holder sends it: `cg_<id>_<secret>`. The id (`cg_` and 8 base32 letters) is public: it
 * names the key in `npm run keys -- list`, in the logs and in the rate limits (`key:<id>`), and it is how the
 * key is looked up. The secret is 32 random bytes (base64url, 43 characters), shown once at creation and
 * stored only as its SHA-256.
 *
 * Why a fast hash and not bcrypt or scrypt: those are for passwords, which people choose and which can be
 * guessed, so each guess must be made expensive. A key's secret is 256 random bits: there is nothing to guess,
 * and a single SHA-256 of it cannot be reversed or brute-forced. A slow hash would only make every request
 * with a key slower (and a flood of requests with keys a denial of service on the CPU).
 */
export const KEY_FORMAT = /^(cg_[a-z2-7]{8})_([A-Za-z0-9_-]{43})$/;

/** A key's public id: `cg_` and 8 letters of RFC 4648's base32 alphabet (lower case). */
export const KEY_ID = /^cg_[a-z2-7]{8}$/;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A new key: its id, the whole key to give its holder (once), and the hash to store. */
export function newKey(): { id: string; key: string; secretSha256: string } {
  // 256 is a multiple of 32: each byte's low 5 bits pick a letter uniformly.
  const id = `cg_${[...randomBytes(8)].map((b) => BASE32[b & 31]).join('')}`;
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `${id}_${secret}`, secretSha256: sha256(secret) };
}

/** The id and secret of a key as sent, or null when it is not a key of ours at all. */
export function parseKey(presented: string): { id: string; secret: string } | null {
  const m = KEY_FORMAT.exec(presented);
  return m ? { id: m[1], secret: m[2] } : null;
}

/** Whether `secret` is the one whose hash was stored: compared in constant time. */
export function secretMatches(secret: string, storedSha256: string): boolean {
  const given = Buffer.from(sha256(secret), 'hex');
  const stored = Buffer.from(storedSha256, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
