/** Imports an optional peer dependency; `undefined` when it is not installed. */
export async function importOptional<T>(specifier: string): Promise<T | undefined> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const missing =
      code === 'ERR_MODULE_NOT_FOUND' &&
      typeof message === 'string' &&
      message.includes(`'${specifier}'`);
    if (missing) return undefined;
    throw error;
  }
}
