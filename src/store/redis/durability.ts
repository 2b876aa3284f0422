// The waitForReplicas option of sessionkit/redis: a write is answered only once WAIT says enough
// replicas have it, so a failover right after the response cannot take it back. Redis replicates
// asynchronously; without this a master that dies a millisecond after acknowledging a login or a
// logout can lose it, and the replica that takes over never saw it.
import { SessionError } from '../../errors.js'
import type { RedisTarget, SendCommand } from './client.js'

/** How many replicas must have a write before it counts, and how long to wait for them. */
export interface WaitForReplicas {
  /** Replicas that must acknowledge each session write and destroy (WAIT numreplicas), at least 1. */
  replicas: number
  /** How long to wait for them, in ms (WAIT timeout); past it the write fails. Default 500. */
  timeoutMs?: number
}

/** The option as checked numbers, or undefined when it is off. */
export function durabilityOf(option: WaitForReplicas | undefined): { replicas: string; timeoutMs: string; wanted: number } | undefined {
  if (option === undefined) return undefined
  const replicas = option?.replicas
  const timeoutMs = option?.timeoutMs ?? 500
  if (!Number.isInteger(replicas) || replicas < 1) throw new TypeError('sessionkit/redis: waitForReplicas.replicas must be an integer of at least 1')
  // WAIT with a timeout of 0 blocks for ever; a session write must give up at some point.
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new TypeError('sessionkit/redis: waitForReplicas.timeoutMs must be an integer number of ms, at least 1')
  return { replicas: String(replicas), timeoutMs: String(timeoutMs), wanted: replicas }
}

/**
 * Runs `work` (which answers its result and whether it wrote anything), then, when it wrote and the
 * option is on, WAIT on the same connection. Fewer replicas than asked fail the call: the write is on
 * the master, but may not survive its failure, so the app must not tell the user it is done (the
 * middleware answers 503).
 */
export async function durably<T>(
  target: RedisTarget,
  durability: ReturnType<typeof durabilityOf>,
  key: string,
  work: (send: SendCommand) => Promise<{ result: T; wrote: boolean }>,
): Promise<T> {
  if (durability === undefined) return (await work(target.send)).result
  return target.onKeyNode(key, async (send) => {
    const { result, wrote } = await work(send)
    if (!wrote) return result
    const acknowledged = Number(await send(['WAIT', durability.replicas, durability.timeoutMs], key))
    if (!(acknowledged >= durability.wanted)) {
      throw new SessionError(
        'SESSION_STORE_FAILED',
        `sessionkit/redis: the write of ${key} reached ${acknowledged} of the ${durability.wanted} replica(s) waitForReplicas asks for within ${durability.timeoutMs} ms; it is on the master but could be lost if the master fails`,
        { status: 503 },
      )
    }
    return result
  })
}
