import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMocks, type RunningMocks } from '../src/index.js';
import { buildEnvelope, postEnvelope, postRaw } from './helpers.js';

let mocks: RunningMocks;

beforeAll(async () => {
  mocks = await startMocks({ ports: { payments: 0, inventory: 0, notifications: 0 } });
});
afterAll(async () => {
  await mocks.close();
});

async function call(base: string, path: string, envelope: Record<string, unknown>): Promise<unknown> {
  const response = await postEnvelope(`${base}${path}`, envelope);
  expect(response.status).toBe(200);
  return response.body;
}

describe('demo service routes', () => {
  it('payments', async () => {
    const base = mocks.urls.payments;
    const charged = await call(base, '/charges', buildEnvelope({ input: { amount: 99.5 } }));
    expect(charged).toEqual({ chargeId: expect.stringMatching(/^ch_/), amount: 99.5, status: 'charged' });

    const refundEnvelope = buildEnvelope({
      stepId: 'charge-payment',
      kind: 'compensation',
      compensationId: 'refund-payment',
      steps: { 'charge-payment': { output: charged } },
    });
    const refunded = await call(base, '/refunds', refundEnvelope);
    expect(refunded).toEqual({
      refundId: expect.stringMatching(/^rf_/),
      chargeId: (charged as { chargeId: string }).chargeId,
      status: 'refunded',
    });

    expect(await call(base, '/refunds/validate', buildEnvelope({ stepId: 'validate-refund' }))).toEqual({
      valid: true,
    });
    const invoice = await call(base, '/invoices', buildEnvelope({ stepId: 'create-invoice' }));
    expect(invoice).toEqual({ invoiceId: expect.stringMatching(/^inv_/) });
    const voided = await call(
      base,
      '/invoices/void',
      buildEnvelope({
        stepId: 'create-invoice',
        kind: 'compensation',
        steps: { 'create-invoice': { output: invoice } },
      }),
    );
    expect(voided).toEqual({ invoiceId: (invoice as { invoiceId: string }).invoiceId, status: 'void' });
    expect(await call(base, '/invoices/fiscal', buildEnvelope({ stepId: 'emit-fiscal-doc' }))).toEqual({
      fiscalDocId: expect.stringMatching(/^fd_/),
    });
    expect(await call(base, '/invoices/archive', buildEnvelope({ stepId: 'archive' }))).toEqual({ archived: true });
  });

  it('refunds without a charge step answer chargeId null (or the template field)', async () => {
    const base = mocks.urls.payments;
    expect(await call(base, '/refunds', buildEnvelope({ stepId: 'refund-payment' }))).toMatchObject({ chargeId: null });
    const templated = await postRaw(`${base}/refunds`, JSON.stringify({ chargeId: 'ch_tpl' }), {
      'content-type': 'application/json',
    });
    expect(templated.body).toMatchObject({ chargeId: 'ch_tpl', status: 'refunded' });
  });

  it('inventory', async () => {
    const base = mocks.urls.inventory;
    const reserved = await call(
      base,
      '/reservations',
      buildEnvelope({ stepId: 'reserve-inventory', input: { sku: 'SKU-1' } }),
    );
    expect(reserved).toEqual({ reservationId: expect.stringMatching(/^rsv_/), sku: 'SKU-1', status: 'reserved' });
    const released = await call(
      base,
      '/reservations/release',
      buildEnvelope({
        stepId: 'reserve-inventory',
        kind: 'compensation',
        compensationId: 'release-inventory',
        steps: { 'reserve-inventory': { output: reserved } },
      }),
    );
    expect(released).toEqual({
      reservationId: (reserved as { reservationId: string }).reservationId,
      status: 'released',
    });
  });

  it('notifications', async () => {
    const sent = await call(mocks.urls.notifications, '/emails', buildEnvelope({ stepId: 'send-confirmation-email' }));
    expect(sent).toEqual({ messageId: expect.stringMatching(/^msg_/), status: 'sent' });
  });

  it('template bodies: fields are read from the body itself', async () => {
    const response = await postRaw(`${mocks.urls.payments}/charges`, JSON.stringify({ orderId: 'o-1', amount: 7 }), {
      'content-type': 'application/json',
    });
    expect(response.body).toMatchObject({ amount: 7, status: 'charged' });
  });
});
