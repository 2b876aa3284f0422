const warned = new Set<string>()

/**
 * A process warning (`process.emitWarning`) printed at most once per process for `key`, so that an app
 * that mounts the middleware many times (one per router, per test) is told once, not once per mount.
 * @internal
 */
export function warnOnce(key: string, message: string, code = 'SESSIONKIT_OPTION'): void {
  if (warned.has(key)) return
  warned.add(key)
  process.emitWarning(message, { code })
}
