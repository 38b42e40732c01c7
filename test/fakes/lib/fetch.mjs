// Where install_container (install.rs:1025-1249@534c76ea) gets the image from: in the podman form
// the already pulled image from containers-storage by digest, in the host form whatever
// --source-imgref names, opened through skopeo only now (after "Initializing ostree layout").
import { describeImage, findImage, localName, normalizeRef, ociArchiveName, ociLayoutName } from './storage.mjs';
import { fail } from './common.mjs';

/**
 * The reference install_container pulls from (install.rs:1037-1064): the container's image as
 * `name@digest` in containers-storage, else the source as given. `image` is its name (what
 * "Insufficient free space for …" and the aleph's `image` show).
 */
export function pullSpec(state) {
  const { source } = state;
  if (source.image) return { transport: 'containers-storage', image: `${source.name.replace(/@.*$/, '')}@${source.digest}` };
  return { transport: source.transport, image: source.name };
}

/**
 * Opens the source the way the proxy's OpenImage would (ostree-ext container/store.rs:940-989); a
 * missing image fails under install_container's contexts. The error tails are skopeo's
 * (containers/image), written as the fake knows them.
 */
export function openSource(state) {
  const { source, verb, ctx } = state;
  const open = (tail) => fail(`${verb}: Creating ostree deployment: Preparing import: Fetching manifest: failed to invoke method OpenImage: ${tail}`);
  if (source.image) return source.image;
  switch (source.transport) {
    case 'registry':
      return describeImage(normalizeRef(source.name).ref ?? source.name);
    case 'containers-storage':
      return findImage(source.name) ?? open(`${source.name}: image not known`);
    case 'oci':
    case 'oci-archive': {
      const archive = source.transport === 'oci-archive';
      // oci:DIR:REF names one image of a layout; a path never contains the last colon's suffix here.
      const m = /^(.*?)(?::([^/:]+))?$/.exec(source.name);
      const path = ctx.host(m[1]);
      const read = path ? (archive ? ociArchiveName(path) : ociLayoutName(path)) : { error: `open ${m[1]}: no such file or directory` };
      if (read.error) open(read.error);
      return describeImage(localName(m[1], m[2] ?? read.name));
    }
    default:
      return fail(`test fake: ${source.transport} sources are not modelled`);
  }
}
