// The ES256 keys that sign login tickets. Shared by every jmp-api through
// Postgres (private half sealed with the master secret); agents get the
// public halves in their policy snapshot to check tickets offline.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Db } from '../db/knex.js';
import type { Secrets } from '../crypto/secrets.js';
import { compactKeyId } from '@jmp/contract/compact-ticket';
import { KID_RE } from './tickets.js';

export interface TicketKeys {
  current(): { kid: string; privateKey: KeyObject };
  publicKey(kid: string): Promise<KeyObject | null>;
  /** The public key a compact ticket's 4-byte key id (hex) names. */
  compactPublicKey(keyId: string): Promise<KeyObject | null>;
  published(): Promise<Array<{ kid: string; publicKeyPem: string }>>;
}

const PURPOSE = 'ticket signing key';

export async function loadTicketKeys(db: Db, secrets: Secrets): Promise<TicketKeys> {
  let row = await db('ticket_keys').whereNull('retired_at').orderBy('created_at', 'desc').first();
  if (!row) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = `k-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
    await db('ticket_keys')
      .insert({
        kid,
        public_pem: publicKey.export({ type: 'spki', format: 'pem' }),
        private_enc: secrets.seal(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, PURPOSE),
      })
      .onConflict('kid')
      .ignore();
    // Another instance may have raced us: everyone signs with the newest key.
    row = await db('ticket_keys').whereNull('retired_at').orderBy('created_at', 'desc').first();
  }
  const current = { kid: row.kid as string, privateKey: createPrivateKey(secrets.open(row.private_enc, PURPOSE)) };
  const publics = new Map<string, KeyObject>();
  const kidOfCompactId = new Map<string, string>([[compactKeyId(current.kid), current.kid]]);
  const keys: TicketKeys = {
    current: () => current,
    async publicKey(kid) {
      // A kid comes from an unverified ticket header: only a well-formed one is looked up.
      if (!KID_RE.test(kid)) return null;
      const cached = publics.get(kid);
      if (cached) return cached;
      const r = await db('ticket_keys').where({ kid }).whereNull('retired_at').first('public_pem');
      if (!r) return null;
      const k = createPublicKey(r.public_pem);
      publics.set(kid, k);
      return k;
    },
    async published() {
      const rows = await db('ticket_keys').whereNull('retired_at').orderBy('created_at').select('kid', 'public_pem');
      return rows.map((r) => ({ kid: r.kid, publicKeyPem: r.public_pem }));
    },
    async compactPublicKey(keyId) {
      if (!/^[0-9a-f]{8}$/.test(keyId)) return null;
      if (!kidOfCompactId.has(keyId))
        for (const k of await db('ticket_keys').whereNull('retired_at').select('kid'))
          kidOfCompactId.set(compactKeyId(k.kid), k.kid);
      const kid = kidOfCompactId.get(keyId);
      return kid ? keys.publicKey(kid) : null;
    },
  };
  return keys;
}
