import { describe, expect, it } from 'vitest';
import { diffPgCounters, type PgCounters } from '../src/pg-counters.js';

describe('diffPgCounters', () => {
  const before: PgCounters = {
    xactCommit: 100,
    xactRollback: 1,
    statements: new Map([
      ['1:true', { query: 'select a', toplevel: true, calls: 10, totalMs: 5, rows: 10 }],
      ['2:false', { query: 'fk check', toplevel: false, calls: 4, totalMs: 1, rows: 4 }],
    ]),
  };
  const after: PgCounters = {
    xactCommit: 180,
    xactRollback: 1,
    statements: new Map([
      ['1:true', { query: 'select a', toplevel: true, calls: 40, totalMs: 20, rows: 40 }],
      ['2:false', { query: 'fk check', toplevel: false, calls: 14, totalMs: 3, rows: 14 }],
      ['3:true', { query: 'insert b', toplevel: true, calls: 5, totalMs: 2, rows: 5 }],
    ]),
  };

  it('subtracts the bench own transactions and separates nested statements', () => {
    const delta = diffPgCounters(before, after, 6);
    expect(delta.commits).toBe(74);
    expect(delta.rollbacks).toBe(0);
    expect(delta.statements).toBe(35);
    expect(delta.nestedStatements).toBe(10);
    expect(delta.topStatements?.map((s) => [s.query, s.calls])).toEqual([
      ['select a', 30],
      ['fk check', 10],
      ['insert b', 5],
    ]);
  });

  it('has no statement figures without pg_stat_statements', () => {
    const delta = diffPgCounters({ ...before, statements: undefined }, { ...after, statements: undefined }, 0);
    expect(delta.statements).toBeUndefined();
    expect(delta.commits).toBe(80);
  });
});
