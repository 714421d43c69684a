/**
 * The security schemes of the OpenAPI document. `adminToken` guards the admin operations (`x-admin-token`,
 * checked in admin-token.ts). `apiKey` (HTTP bearer) is declared for the API keys to come; no operation
 * requires it yet, and the API does not check it yet.
 */

export const ADMIN_TOKEN_SCHEME = 'adminToken';
const API_KEY_SCHEME = 'apiKey';

export const SECURITY_SCHEMES = {
  [ADMIN_TOKEN_SCHEME]: {
    type: 'apiKey',
    in: 'header',
    name: 'x-admin-token',
    description: "The API's ADMIN_TOKEN, sent as the x-admin-token header. Required on /v1/admin/*.",
  },
  [API_KEY_SCHEME]: {
    type: 'http',
    scheme: 'bearer',
    description: 'Reserved for API keys (`Authorization: Bearer <key>`); not required or checked yet.',
  },
} as const;
