// Ed25519 keys for verified approvals. A door (keel serve, keel mcp, a CLI or SDK client) holds a
// signing key (KEEL_SIGNING_KEY, "id:<64 hex>"); workers hold the public keys they trust
// (KEEL_DECISION_KEYS, "id:<64 hex>[:identity]", comma-separated, so keys can rotate). The workflow
// checks signatures against public keys only: no secret ever reaches its history.
import { ed25519 } from '@noble/curves/ed25519';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils';
import { type DoorSignature, type EscalationBinding, type TrustedKey, decisionMessage, startMessage } from '../shared/approvals';

export interface SigningKey {
  id: string;
  /** The 32-byte private seed. */
  seed: Uint8Array;
}

const keyId = /^[A-Za-z0-9_.-]{1,100}$/;
const hex64 = /^[0-9a-fA-F]{64}$/;

/** KEEL_SIGNING_KEY ("id:<64 hex>") → the key, or what is wrong (the key itself is never quoted). */
export function parseSigningKey(text: string): SigningKey | string {
  const [id, seed, ...rest] = text.trim().split(':');
  if (rest.length > 0 || id === undefined || seed === undefined || !keyId.test(id) || !hex64.test(seed)) {
    return 'KEEL_SIGNING_KEY is not id:<64 hex digits> (make one with `keel keys new`)';
  }
  return { id, seed: hexToBytes(seed.toLowerCase()) };
}

/** KEEL_DECISION_KEYS ("id:<64 hex public key>[:identity]", comma-separated) → the trusted keys, or what is wrong. */
export function parseDecisionKeys(text: string): TrustedKey[] | string {
  const entries = text.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) return 'KEEL_DECISION_KEYS is empty: give id:<64 hex public key>[:identity], comma-separated';
  const keys: TrustedKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const [id, publicKey, ...identityParts] = entry.split(':');
    const identity = identityParts.join(':');
    const where = `KEEL_DECISION_KEYS entry ${index + 1}`;
    if (id === undefined || publicKey === undefined || !keyId.test(id) || !hex64.test(publicKey)) return `${where} is not id:<64 hex public key>[:identity] (make one with \`keel keys new\`)`;
    if (keys.some((key) => key.id === id)) return `${where}: the key id "${id}" appears twice`;
    try {
      ed25519.ExtendedPoint.fromHex(publicKey.toLowerCase());
    } catch {
      return `${where} (${id}): not an Ed25519 public key`;
    }
    keys.push({ id, publicKey: publicKey.toLowerCase(), ...(identity ? { identity } : {}) });
  }
  return keys;
}

/** A fresh key pair: the line for the door (secret) and the line for the workers (public). */
export function newKeyPair(id: string): { signingKey: string; decisionKey: string } {
  if (!keyId.test(id)) throw new Error(`a key id is 1-100 letters, digits, "_", "." or "-", not ${JSON.stringify(id)}`);
  const seed = ed25519.utils.randomPrivateKey();
  return { signingKey: `${id}:${bytesToHex(seed)}`, decisionKey: `${id}:${bytesToHex(ed25519.getPublicKey(seed))}` };
}

/** The public half of a signing key, as KEEL_DECISION_KEYS lists it. */
export function publicKeyOf(key: SigningKey): string {
  return bytesToHex(ed25519.getPublicKey(key.seed));
}

/** Who a door says it verified. */
export interface Signer {
  by: string;
  groups?: string[];
  door: string;
}

/** Who a door vouches for: the checked caller's name and, from an OIDC token, its groups. */
export function signerFor(caller: { name: string; groups?: readonly string[] }, door: string): Signer {
  return { by: caller.name, ...(caller.groups && caller.groups.length > 0 ? { groups: [...caller.groups] } : {}), door };
}

function sign(key: SigningKey, message: string, who: Signer, at: string): DoorSignature {
  const sig = bytesToHex(ed25519.sign(new TextEncoder().encode(message), key.seed));
  return { keyId: key.id, by: who.by, ...(who.groups && who.groups.length > 0 ? { groups: who.groups } : {}), door: who.door, at, sig };
}

/** Signs a decision for one pending escalation of one run. */
export function signDecision(key: SigningKey, binding: EscalationBinding, decision: Record<string, unknown>, who: Signer, at = new Date().toISOString()): DoorSignature {
  return sign(key, decisionMessage(binding, decision, { ...who, at }), who, at);
}

/** Signs who started a run. */
export function signStart(key: SigningKey, workflowId: string, who: Signer, at = new Date().toISOString()): DoorSignature {
  return sign(key, startMessage(workflowId, { ...who, at }), who, at);
}
