// TOTP (RFC 6238, 30 s, 6 digits) via otplib, one step of clock drift allowed.
import { authenticator } from 'otplib';

authenticator.options = { window: 1, step: 30, digits: 6 };

export const newTotpSecret = (): string => authenticator.generateSecret(20);
export const totpCode = (secret: string): string => authenticator.generate(secret);
export const checkTotp = (code: string, secret: string): boolean => {
  try {
    return authenticator.check(code, secret);
  } catch {
    return false;
  }
};
export const totpUri = (username: string, secret: string): string => authenticator.keyuri(username, 'jmp', secret);
