// Review issue 11, finding 10: the start-up line's address must not carry a password, wherever the
// URL holds it: in the userinfo or in query parameters (libpq reads `password` and `sslpassword`).
import { describe, expect, test } from 'bun:test';
import { buildPooledDatabaseConfig } from './db-config.ts';

describe('the address logged at start-up', () => {
  test.each([
    'postgresql://app:s3cr3t-userinfo@127.0.0.1:6543/app',
    'postgresql://app@127.0.0.1:6543/app?password=s3cr3t-query',
    'postgresql://app@127.0.0.1:6543/app?sslmode=require&sslpassword=s3cr3t-key&PASSWORD=s3cr3t-upper',
    'postgresql://app:s3cr3t-both@127.0.0.1:6543/app?password=s3cr3t-both2&connection_limit=3',
  ])('%s is masked', (databaseUrl) => {
    const config = buildPooledDatabaseConfig({ databaseUrl });
    expect(config.maskedUrl).not.toContain('s3cr3t');
    expect(config.maskedUrl).toContain('127.0.0.1:6543/app');
    // pg still gets the real address.
    expect(config.connectionString).toContain('s3cr3t');
  });

  test('everything that is not a secret stays readable', () => {
    const config = buildPooledDatabaseConfig({
      databaseUrl: 'postgresql://app:pw@db.example.test:6543/app?sslmode=require&application_name=client',
    });
    expect(config.maskedUrl).toBe(
      'postgresql://app:****@db.example.test:6543/app?sslmode=require&application_name=client',
    );
  });
});
