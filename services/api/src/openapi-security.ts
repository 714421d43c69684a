/**
 * The security schemes of the OpenAPI document (docs/security.md). Every /v1 operation names both: an API key sent
 * as a bearer token (`apiKey`, SAGAFLOW_API_KEYS, checked in access-control.ts) or the admin token (`adminToken`,
 * `x-admin-token`, an admin credential). The role an operation needs is its `x-sagaflow-role`.
 */

export const ADMIN_TOKEN_SCHEME = 'adminToken';
export const API_KEY_SCHEME = 'apiKey';

export const SECURITY_SCHEMES = {
  [ADMIN_TOKEN_SCHEME]: {
    type: 'apiKey',
    in: 'header',
    name: 'x-admin-token',
    description:
      "The API's ADMIN_TOKEN, sent as the x-admin-token header: an admin credential on every /v1 endpoint. Without " +
      'SAGAFLOW_API_KEYS, the only credential, required on the admin endpoints.',
  },
  [API_KEY_SCHEME]: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key of SAGAFLOW_API_KEYS (`Authorization: Bearer <key>`), with the role client, operator or admin. ' +
      'Required on every /v1 endpoint when SAGAFLOW_API_KEYS is set; not read otherwise.',
  },
} as const;
