/**
 * Login checks of the test server: password (`AUTHENTICATOR: "SNOWFLAKE"`) and key-pair
 * (`AUTHENTICATOR: "SNOWFLAKE_JWT"`, a JWT in `TOKEN`). A JWT must name `<ACCOUNT>.<USER>` as
 * its subject and be unexpired; its RS256 signature is verified when the user was configured
 * with a public key, otherwise any well-formed token of that subject is accepted.
 */
import { createPublicKey, verify } from 'node:crypto';

export interface TestUser {
  username: string;
  password?: string;
  /** PEM public key for key-pair login. */
  publicKeyPem?: string;
}

export interface LoginData {
  ACCOUNT_NAME?: string;
  LOGIN_NAME?: string;
  PASSWORD?: string;
  AUTHENTICATOR?: string;
  TOKEN?: string;
}

/** Returns the user, or undefined when the credentials are wrong (the caller answers 390100). */
export function authenticate(users: TestUser[], account: string, data: LoginData): TestUser | undefined {
  const user = users.find((u) => u.username.toUpperCase() === (data.LOGIN_NAME ?? '').toUpperCase());
  if (!user) return undefined;
  const authenticator = (data.AUTHENTICATOR ?? 'SNOWFLAKE').toUpperCase();
  if (authenticator === 'SNOWFLAKE') {
    return user.password !== undefined && data.PASSWORD === user.password ? user : undefined;
  }
  if (authenticator === 'SNOWFLAKE_JWT' && data.TOKEN) {
    return jwtIsValid(data.TOKEN, `${account}.${user.username}`.toUpperCase(), user.publicKeyPem) ? user : undefined;
  }
  return undefined;
}

function jwtIsValid(token: string, subject: string, publicKeyPem: string | undefined): boolean {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return false;
  let claims: { sub?: string; exp?: number };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return false;
  }
  if (claims.sub?.toUpperCase() !== subject) return false;
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return false;
  if (!publicKeyPem) return true;
  return verify(
    'RSA-SHA256',
    Buffer.from(`${header}.${payload}`),
    createPublicKey(publicKeyPem),
    Buffer.from(signature, 'base64url'),
  );
}
