import { describe, expect, it } from 'vitest';
import { quotaProblem, refusalText, usageText } from './bounds';

const limits = { maxUploadBytes: 50 * 1024 * 1024, storageQuotaBytes: 2 * 1024 * 1024 * 1024 };

describe('bounds', () => {
  it('says why each refused upload was not kept, with the limit', () => {
    expect(refusalText('tooLarge', limits)).toContain('50');
    expect(refusalText('overQuota', limits)).toContain('2');
    expect(refusalText('overQuota', { maxUploadBytes: 1 })).toContain('storage quota');
    expect(refusalText('storageClass', limits)).toContain('storage class');
  });

  it('shows the storage used against the quota', () => {
    expect(usageText(1024 * 1024, limits)).toMatch(/1(\.0)? MB of your 2(\.0)? GB/);
    expect(usageText(0, { maxUploadBytes: 1 })).not.toContain('of your');
  });

  it('refuses a file that would pass the quota and only then', () => {
    const quota = limits.storageQuotaBytes;
    expect(quotaProblem(10, quota - 10, limits)).toBeUndefined();
    expect(quotaProblem(11, quota - 10, limits)).toContain('quota');
    expect(quotaProblem(10 ** 12, 0, { maxUploadBytes: 1 })).toBeUndefined();
  });
});
