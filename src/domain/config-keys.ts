// Which config keys are shown in clear. Plain data, so the `config` commands can name it without
// loading the backend (and with it the store) at start-up.

export const USER_EMAIL_KEY = 'user.email';

/** Whether `config get` and the audit show a key's value masked: all but user.email, since any value a connection references is a secret. */
export function isMaskedConfigKey(key: string): boolean {
  return key !== USER_EMAIL_KEY;
}
