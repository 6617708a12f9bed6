/** See with-node.mjs. */
export function nodeBinary(major: string | number): string;
export function pathWith(binary: string, path?: string): string;
