import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A read-only registry on 127.0.0.1 serving one OCI image layout as `<name>:<tag>`, enough of the
 * OCI distribution API (v2 ping, manifests by tag or digest, blobs by digest, GET and HEAD) for real
 * skopeo and podman to inspect and pull it. Plain HTTP, so clients need the registries.conf this
 * returns (the registry marked insecure), passed as CONTAINERS_REGISTRIES_CONF.
 */
export interface LocalRegistry {
  /** host:port */
  readonly host: string;
  /** `host:port/name:tag` */
  readonly reference: string;
  /** A registries.conf that lets containers/image use plain HTTP for this registry. */
  readonly registriesConf: string;
  /** Requests answered, by path, for tests that want to see what a client fetched. */
  readonly requests: string[];
  close(): Promise<void>;
}

interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export async function serveLayout(layout: string, name = 'particle/test', tag = 'latest'): Promise<LocalRegistry> {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: IndexEntry[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag) ?? index.manifests[0];
  if (!entry) throw new Error(`${layout} has no manifest`);
  const blob = (digest: string): string | null => {
    const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
    return m ? join(layout, 'blobs/sha256', m[1]!) : null;
  };
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://registry');
    requests.push(`${req.method} ${url.pathname}`);
    const head = req.method === 'HEAD';
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' });
      res.end(head ? undefined : '{}');
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (!m || m[1] !== name) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(head ? undefined : JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }));
      return;
    }
    const [, , kind, ref] = m;
    let digest: string | null = null;
    let type = 'application/octet-stream';
    if (kind === 'manifests') {
      if (ref === tag || ref === entry.digest) {
        digest = entry.digest;
        type = entry.mediaType;
      }
    } else {
      digest = ref!;
    }
    const file = digest ? blob(digest) : null;
    let size = -1;
    try {
      if (file) size = statSync(file).size;
    } catch {
      size = -1;
    }
    if (!file || size < 0) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(head ? undefined : JSON.stringify({ errors: [{ code: kind === 'manifests' ? 'MANIFEST_UNKNOWN' : 'BLOB_UNKNOWN', message: `${kind === 'manifests' ? 'manifest' : 'blob'} unknown` }] }));
      return;
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': size, 'Docker-Content-Digest': digest! });
    if (head) res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the registry has no TCP address');
  const host = `127.0.0.1:${address.port}`;
  const confDir = mkdtempSync(join(tmpdir(), 'particle-registry-'));
  const registriesConf = join(confDir, 'registries.conf');
  writeFileSync(registriesConf, `[[registry]]\nlocation = "${host}"\ninsecure = true\n`);
  return {
    host,
    reference: `${host}/${name}:${tag}`,
    registriesConf,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        rmSync(confDir, { recursive: true, force: true });
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
