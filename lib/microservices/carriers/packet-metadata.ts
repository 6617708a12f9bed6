import { hasHeader, readHeaderRecord } from './header-values.js';

/** An RPC context whose transport carries Nest's packet metadata (TCP, Redis). */
export interface MetadataContext {
  getMetadata(): unknown;
}

/** A client that hands every packet to a dispatch hook before sending it. */
interface DispatchingClient {
  setOnDispatchHook(hook: (packet: { metadata?: unknown }) => void): void;
}

/**
 * The ID in the metadata a client attached to the packet, read as headers are: any spelling of
 * the name, and anything but one string (several spellings, several values) is not one ID.
 */
export function readMetadata(context: MetadataContext, header: string): string | null | undefined {
  return readHeaderRecord(context.getMetadata(), header);
}

/**
 * Puts the current ID in every packet's metadata, beside what another dispatch hook of the
 * client put there (that hook's own value for the header wins).
 */
export function writeMetadata<Client>(
  client: Client,
  header: string,
  currentId: (client: Client) => string | undefined,
): void {
  const target = client as Client & DispatchingClient & { onDispatchHook?: DispatchHook };
  const previous = target.onDispatchHook;
  target.setOnDispatchHook((packet) => {
    previous?.call(target, packet);
    const id = currentId(client);
    if (id === undefined) return;
    const metadata = packet.metadata;
    if (typeof metadata !== 'object' || metadata === null) {
      packet.metadata = { [header]: id };
    } else if (!hasHeader(metadata, header)) {
      packet.metadata = { ...metadata, [header]: id };
    }
  });
}

type DispatchHook = (packet: { metadata?: unknown }) => void;
