/**
 * Whether a header name as a sender wrote it is `header` (lower case), in any case: HTTP and most
 * transports match names without regard to case.
 */
export function sameHeaderName(name: string, header: string): boolean {
  // Senders with the library write the name as it is configured: no lower-cased copy for those.
  return name === header || (name.length === header.length && name.toLowerCase() === header);
}
