import { describe, expect, test } from 'bun:test';
import { describeOverride, maskSecretsInUrl, mergeEnvLayers } from './env-layers.ts';

const KEYS = ['DATABASE_URL', 'DB_POOL_SIZE', 'REDIS_URL'];

describe('mergeEnvLayers', () => {
  test('later layers win and every value remembers its layer', () => {
    const merged = mergeEnvLayers(
      [
        { name: '.env', values: { DATABASE_URL: 'postgresql://root@h:6543/d', DB_POOL_SIZE: '2' } },
        { name: 'workers/auth/.env', values: { DATABASE_URL: 'postgresql://local@h:5432/d' } },
        { name: 'process environment', values: { DB_POOL_SIZE: '3', PATH: '/usr/bin' } },
      ],
      KEYS,
    );
    expect(merged.values).toEqual({ DATABASE_URL: 'postgresql://local@h:5432/d', DB_POOL_SIZE: '3' });
    expect(merged.sources).toEqual({ DATABASE_URL: 'workers/auth/.env', DB_POOL_SIZE: 'process environment' });
  });

  test('records each override with winner and loser; equal values are not overrides', () => {
    const merged = mergeEnvLayers(
      [
        { name: '.env', values: { DATABASE_URL: 'postgresql://a@h:6543/d', REDIS_URL: 'redis://r:6379' } },
        {
          name: 'workers/client/.env',
          values: { DATABASE_URL: 'postgresql://b@h:5432/d', REDIS_URL: 'redis://r:6379' },
        },
      ],
      KEYS,
    );
    expect(merged.overrides).toEqual([
      {
        key: 'DATABASE_URL',
        winner: 'workers/client/.env',
        loser: '.env',
        winnerValue: 'postgresql://b@h:5432/d',
        loserValue: 'postgresql://a@h:6543/d',
      },
    ]);
  });

  test('keys outside the schema never enter the configuration', () => {
    const merged = mergeEnvLayers([{ name: 'process environment', values: { HOME: '/root' } }], KEYS);
    expect(merged.values).toEqual({});
  });
});

describe('masking', () => {
  test('hides passwords in URLs and password-like parameters', () => {
    expect(maskSecretsInUrl('postgresql://user:hunter2@h:6543/d?password=x&sslmode=require')).toBe(
      'postgresql://user:****@h:6543/d?password=****&sslmode=require',
    );
    expect(maskSecretsInUrl('not a url')).toBe('not a url');
  });

  test('an override warning names key, winner and loser, never the password', () => {
    const line = describeOverride({
      key: 'DATABASE_URL',
      winner: 'workers/auth/.env',
      loser: '.env',
      winnerValue: 'postgresql://u:secret1@pooler.example.com:5432/d',
      loserValue: 'postgresql://u:secret2@pooler.example.com:6543/d',
    });
    expect(line).toContain('DATABASE_URL from workers/auth/.env overrides .env');
    expect(line).not.toContain('secret1');
    expect(line).not.toContain('secret2');
  });
});
