// GitHub App credentials for tests: an RSA key pair in GitHub's own format and the RS256 JWT checks
// GitHub applies to an App's requests, with GitHub's error messages (Octokit reacts to some of them).
import { createPublicKey, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';

export interface AppKeyPair {
  /** PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"), the format GitHub hands out for App keys. */
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateAppKeyPair(): AppKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

export function publicKeyOf(key: { privateKeyPem?: string; publicKeyPem?: string }): KeyObject {
  const pem = key.publicKeyPem ?? key.privateKeyPem;
  if (!pem) throw new Error('setApp needs privateKeyPem or publicKeyPem');
  return createPublicKey(pem);
}

export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

/** Verifies an App JWT; returns the error message GitHub would send, or undefined when valid. */
export function jwtError(
  token: string,
  key: KeyObject,
  appId: string,
  nowSeconds = Date.now() / 1000,
): string | undefined {
  const undecodable = 'A JSON web token could not be decoded';
  const [headerPart, payloadPart, signaturePart] = token.split('.');
  if (!headerPart || !payloadPart || !signaturePart) return undecodable;
  let header: { alg?: string };
  let claims: { iat?: unknown; exp?: unknown; iss?: unknown };
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  } catch {
    return undecodable;
  }
  if (header.alg !== 'RS256') return undecodable;
  const signed = Buffer.from(`${headerPart}.${payloadPart}`);
  if (!verify('sha256', signed, key, Buffer.from(signaturePart, 'base64url'))) return undecodable;
  if (String(claims.iss) !== appId) return `Integration not found`;
  if (typeof claims.iat !== 'number' || !Number.isInteger(claims.iat) || claims.iat > nowSeconds + 60) {
    return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.";
  }
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) {
    return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.";
  }
  if (claims.exp - claims.iat > 600) return "'Expiration time' claim ('exp') is too far in the future.";
  return undefined;
}
