/**
 * What the cloud keeps of an upload (docs/decisions/upload-bounds.md): content-updated deletes
 * an upload over the size limit, past its owner's storage quota or in another storage class
 * than STANDARD, and the owner's index lists it with the reason until it expires.
 */
import type { AppConfig } from './config';
import type { Refusal } from './indexdoc';
import { formatBytes } from './metadata';

type Limits = Pick<AppConfig, 'maxUploadBytes' | 'storageQuotaBytes'>;

/** The owner's explanation of a refused upload. */
export function refusalText(refused: Refusal, limits: Limits): string {
  switch (refused) {
    case 'tooLarge':
      return `Not kept: larger than ${formatBytes(limits.maxUploadBytes)}, the largest upload kept.`;
    case 'overQuota':
      return limits.storageQuotaBytes
        ? `Not kept: it would pass your storage quota of ${formatBytes(limits.storageQuotaBytes)}. Delete some pictures, then upload it again.`
        : 'Not kept: it would pass your storage quota. Delete some pictures, then upload it again.';
    case 'storageClass':
      return 'Not kept: it was sent for an archive storage class; upload it again as an ordinary file.';
  }
}

/** The storage line of the upload view. */
export function usageText(usedBytes: number, limits: Limits): string {
  if (!limits.storageQuotaBytes) return `Your originals use ${formatBytes(usedBytes)}.`;
  return `Your originals use ${formatBytes(usedBytes)} of your ${formatBytes(limits.storageQuotaBytes)}.`;
}

/** Why a file of `size` bytes will not be kept, given `usedBytes` already stored; undefined when it fits. */
export function quotaProblem(size: number, usedBytes: number, limits: Limits): string | undefined {
  if (!limits.storageQuotaBytes || usedBytes + size <= limits.storageQuotaBytes) return undefined;
  return `Past your storage quota: ${formatBytes(usedBytes)} of ${formatBytes(limits.storageQuotaBytes)} used. Delete some pictures first.`;
}
