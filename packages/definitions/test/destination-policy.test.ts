import { describe, expect, it } from 'vitest';
import {
  describeAddressProblem,
  describeDestinationProblem,
  findDestinationIssues,
  isSpecialAddress,
  parseAllowedHosts,
  readServiceUrls,
  type WorkflowDefinition,
} from '../src/index.js';

describe('parseAllowedHosts', () => {
  it('reads host, host:port, [ipv6], [ipv6]:port and bare IPv6 entries, lower-cased', () => {
    expect(parseAllowedHosts(' Payments.Internal , 127.0.0.1:4010,[::1]:8080,[fd00:ec2::254], fe80::1 ')).toEqual([
      { host: 'payments.internal' },
      { host: '127.0.0.1', port: 4010 },
      { host: '::1', port: 8080 },
      { host: 'fd00:ec2::254' },
      { host: 'fe80::1' },
    ]);
  });

  it('unset or blank allows every host', () => {
    expect(parseAllowedHosts(undefined)).toBeUndefined();
    expect(parseAllowedHosts(' , ')).toBeUndefined();
  });

  it('refuses a bad entry, naming it', () => {
    for (const bad of ['host:0', 'host:70000', 'host:x', 'http://host', 'a b']) {
      expect(() => parseAllowedHosts(bad), bad).toThrow(/SAGAFLOW_ALLOWED_HOSTS/);
    }
  });
});

describe('isSpecialAddress: link-local and cloud metadata', () => {
  it('is true for 169.254.0.0/16, fe80::/10, fd00:ec2::254 and their mapped forms', () => {
    for (const ip of [
      '169.254.169.254',
      '169.254.0.1',
      '169.254.255.255',
      'fe80::1',
      'febf::1',
      'fd00:ec2::254',
      '::ffff:169.254.169.254',
      // the IPv4 link-local range in every IPv6 spelling: mapped as URL parsing writes it (hex), in full, translated,
      // compatible, NAT64
      '::ffff:a9fe:a9fe',
      '[::ffff:a9fe:a9fe]',
      '0:0:0:0:0:ffff:a9fe:a9fe',
      '::FFFF:A9FE:0001',
      '::ffff:0:a9fe:a9fe',
      '::ffff:0:169.254.169.254',
      '::a9fe:a9fe',
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::169.254.0.1',
      // 6to4
      '2002:a9fe:a9fe::1',
      // other clouds' metadata: Alibaba, Oracle (legacy), and their IPv6 forms
      '100.100.100.200',
      '192.0.0.192',
      '::ffff:100.100.100.200',
      '::ffff:6464:64c8',
      '::ffff:0:6464:64c8',
      '64:ff9b::c000:c0',
      '2002:6464:64c8::1',
      '2002:c000:c0::1',
    ]) {
      expect(isSpecialAddress(ip), ip).toBe(true);
    }
  });

  it('sees through the URL parser: a mapped metadata address written either way is refused', () => {
    for (const url of [
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[64:ff9b::a9fe:a9fe]/',
    ]) {
      expect(describeDestinationProblem(new URL(url), undefined), url).toMatch(/link-local or cloud metadata/);
    }
  });

  it('is false for other addresses and for names', () => {
    for (const ip of [
      '127.0.0.1',
      '10.0.0.1',
      '169.255.0.1',
      '169.253.255.255',
      '1.169.254.1',
      '169.254.1',
      '::1',
      'fd00:ec2::253',
      'fec0::1',
      '::ffff:7f00:1',
      '::ffff:a9ff:1',
      '64:ff9b::a9ff:1',
      '2001:db8::a9fe:a9fe',
      '100.100.100.201',
      '192.0.0.193',
      '2002:a9ff::1',
      '2002:7f00:1::1',
      'localhost',
    ]) {
      expect(isSpecialAddress(ip), ip).toBe(false);
    }
  });
});

describe('describeDestinationProblem', () => {
  const allowed = parseAllowedHosts('payments.internal,127.0.0.1:4010');

  it('matches host entries on any port and host:port entries on that port only', () => {
    expect(describeDestinationProblem(new URL('http://payments.internal:9999/x'), allowed)).toBeUndefined();
    expect(describeDestinationProblem(new URL('http://127.0.0.1:4010/x'), allowed)).toBeUndefined();
    expect(describeDestinationProblem(new URL('http://127.0.0.1:4011/x'), allowed)).toBe(
      'host "127.0.0.1:4011" is not in SAGAFLOW_ALLOWED_HOSTS',
    );
    expect(describeDestinationProblem(new URL('https://evil.example/x'), allowed)).toContain('"evil.example:443"');
  });

  it('refuses link-local and metadata addresses unless the address itself is listed', () => {
    expect(describeDestinationProblem(new URL('http://169.254.169.254/latest'), undefined)).toMatch(
      /169\.254\.169\.254:80 is link-local or cloud metadata/,
    );
    expect(describeDestinationProblem(new URL('http://[fd00:ec2::254]/'), undefined)).toContain('[fd00:ec2::254]:80');
    expect(describeDestinationProblem(new URL('http://169.254.169.254/'), parseAllowedHosts('169.254.169.254'))).toBe(
      undefined,
    );
    // a listed name does not cover a special address it resolves to
    expect(describeAddressProblem('169.254.1.1', 80, parseAllowedHosts('meta.internal'))).toBeDefined();
    expect(describeAddressProblem('169.254.1.1', 80, parseAllowedHosts('169.254.1.1:81'))).toBeDefined();
    expect(describeAddressProblem('10.0.0.1', 80, undefined)).toBeUndefined();
  });
});

describe('readServiceUrls', () => {
  it('has the demo mocks outside production only', () => {
    expect(readServiceUrls({}, { production: false })).toMatchObject({ payments: 'http://127.0.0.1:3001' });
    expect(readServiceUrls({}, { production: true })).toEqual({});
    expect(
      readServiceUrls({ SAGAFLOW_SERVICE_SHIPPING_LABELS_URL: 'https://labels:8443' }, { production: true }),
    ).toEqual({ 'shipping-labels': 'https://labels:8443' });
    expect(() => readServiceUrls({ SAGAFLOW_SERVICE_X_URL: 'ftp://x' }, { production: false })).toThrow(
      /SAGAFLOW_SERVICE_X_URL/,
    );
  });
});

describe('findDestinationIssues (registration)', () => {
  const definition = {
    name: 'w',
    version: '1.0.0',
    steps: [
      {
        id: 'a',
        request: { method: 'POST', url: 'http://evil.example:8080/orders/{{input.id}}' },
        compensation: { id: 'a-undo', request: { method: 'POST', service: 'payments', path: '/refunds' } },
      },
      { id: 'b', request: { method: 'POST', service: 'shipping-labels', path: '/labels' } },
    ],
  } as WorkflowDefinition;

  it('names each refused host and, in production, each service without a URL', () => {
    const issues = findDestinationIssues(definition, {
      allowedHosts: parseAllowedHosts('127.0.0.1:3001'),
      serviceUrls: readServiceUrls({}, { production: true }),
      production: true,
    });
    expect(issues).toEqual([
      { path: ['steps', 0, 'request'], message: 'host "evil.example:8080" is not in SAGAFLOW_ALLOWED_HOSTS' },
      {
        path: ['steps', 0, 'compensation', 'request'],
        message: expect.stringContaining('set SAGAFLOW_SERVICE_PAYMENTS_URL'),
      },
      { path: ['steps', 1, 'request'], message: expect.stringContaining('set SAGAFLOW_SERVICE_SHIPPING_LABELS_URL') },
    ]);
  });

  it('outside production, checks service base URLs against the list and leaves unknown services to run time', () => {
    const issues = findDestinationIssues(definition, {
      allowedHosts: parseAllowedHosts('evil.example'),
      serviceUrls: readServiceUrls({}, { production: false }),
      production: false,
    });
    expect(issues).toEqual([
      {
        path: ['steps', 0, 'compensation', 'request'],
        message:
          'service "payments" (SAGAFLOW_SERVICE_PAYMENTS_URL): host "127.0.0.1:3001" is not in SAGAFLOW_ALLOWED_HOSTS',
      },
    ]);
  });
});
