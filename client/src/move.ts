/**
 * Changing a picture's visibility: the original moves to the other prefix of the owner
 * (docs/decisions/visibility-changes.md).
 *
 * The new original is written first, with metadata carrying the current title and
 * description and the old key (`movedFrom`, from whose item the backend takes the first
 * upload's date); only once that write succeeded is the old original deleted. The pipeline
 * then makes the new thumbnail, faces copy and item, and removes the old ones, so the
 * picture is briefly in both lists, never in neither.
 */
import type { IndexItem } from './indexdoc';
import { contentKey, fileNameOfKey, uniqueFileName, visibilityOf } from './keys';
import { checkMetadataSize, type UploadMetadata } from './metadata';
import { httpStatusOf } from './api';

/** How many names are tried when the chosen one turns out to be taken meanwhile (412). */
const NAME_ATTEMPTS = 5;

export interface MoveDeps {
  /** File names the owner already uses under the public (true) or private (false) prefix. */
  takenNames: (isPublic: boolean) => Promise<Set<string>>;
  /** Server-side copy with new metadata, refused (412) if the destination exists. */
  copy: (sourceKey: string, destinationKey: string, contentType: string | undefined, meta: UploadMetadata) => Promise<void>;
  /** Writes these bytes as a new object, refused (412) if it exists. */
  put: (key: string, body: Uint8Array, contentType: string | undefined, meta: UploadMetadata) => Promise<void>;
  remove: (key: string) => Promise<void>;
}

export class MetadataTooLong extends Error {
  override name = 'MetadataTooLong';
}

/**
 * Moves `item` to the other visibility. With `body`, those bytes are written instead of a
 * copy (the original with its location removed). Returns the new key.
 */
export async function moveToVisibility(item: IndexItem, toPublic: boolean, deps: MoveDeps, body?: Uint8Array): Promise<string> {
  if (item.isPublic === toPublic) return item.objectKey;
  const meta: UploadMetadata = {
    isPublic: toPublic,
    title: item.title,
    description: item.description,
    movedFrom: item.objectKey,
  };
  const size = checkMetadataSize(meta);
  if (!size.ok) {
    throw new MetadataTooLong(
      'The description is too long to carry over with the picture (S3 keeps at most 2 KB of metadata, the file name included). Shorten it, then change the visibility.',
    );
  }
  // The same file name when it is free under the new prefix (it normally is: uploads pick
  // names unused under both), so the picture's share link keeps working.
  const own = fileNameOfKey(item.objectKey);
  const taken = await deps.takenNames(toPublic);
  let name = uniqueFileName(own, taken);
  for (let attempt = 1; ; attempt++) {
    const key = contentKey(visibilityOf(toPublic), item.identityId, name);
    try {
      if (body) await deps.put(key, body, item.contentType, meta);
      else await deps.copy(item.objectKey, key, item.contentType, meta);
    } catch (err) {
      if (httpStatusOf(err) === 412 && attempt < NAME_ATTEMPTS) {
        taken.add(name);
        name = uniqueFileName(own, taken);
        continue;
      }
      throw err;
    }
    await deps.remove(item.objectKey);
    return key;
  }
}
