// The browser's own database (IndexedDB) for what must survive a reload without network: the
// consoles' queued commands (photos as Blobs, not base64, so camera photos do not fill a quota of
// a few MB) and the last view each page showed. A browser without IndexedDB (some private modes)
// gets `null` from `db()`, and the callers keep things in memory only.

const NAME = 'makerpulse';
const VERSION = 1;

let opening = null;

/** The database, opened once; `null` where IndexedDB is not available. */
export function db() {
  if (!opening) {
    opening = new Promise((resolve) => {
      let req;
      try {
        req = indexedDB.open(NAME, VERSION);
      } catch {
        resolve(null);
        return;
      }
      req.onupgradeneeded = () => {
        const d = req.result;
        // Queued commands: in the order they were made (the auto-incremented key), by box.
        const queue = d.createObjectStore('queue', { keyPath: 'key', autoIncrement: true });
        queue.createIndex('box', 'box');
        // The last view of each page, challenge and token.
        d.createObjectStore('views', { keyPath: 'key' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
      req.onblocked = () => resolve(null);
    });
  }
  return opening;
}

function done(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Runs `fn(store)` in a transaction of `store`; resolves with its request's result once committed. */
export async function tx(store, mode, fn) {
  const d = await db();
  if (!d) throw new Error('no IndexedDB');
  const t = d.transaction(store, mode);
  const result = fn(t.objectStore(store));
  const value = result instanceof IDBRequest ? done(result) : Promise.resolve(result);
  await new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('aborted'));
  });
  return value;
}

/** Every record of `box` in the queue, oldest first. */
export function queued(box) {
  return tx('queue', 'readonly', (s) => s.index('box').getAll(box));
}

/** A short tag of a token (its SHA-256, 16 hex digits), so a stored view is never shown to another token. */
export async function tokenTag(token) {
  if (!token) return 'public';
  try {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
    return [...new Uint8Array(digest).slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
  } catch {
    return null;
  }
}
