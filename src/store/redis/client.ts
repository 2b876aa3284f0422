// The Redis clients sessionkit/redis accepts, told apart by shape, behind one small interface: send a
// command (routed by its key on a Cluster), run commands on the one connection that serves a key's
// writes (for WAIT, which counts only that connection's writes), and reach every master (for SCAN).
// Raw commands answer alike in every client (arrays of strings, integers, nil), so the store needs
// nothing else from any of them and imports none.
import { createHash } from 'node:crypto'

/** The one method of a node-redis 4/5 client (`createClient()` from `redis`) the store uses. */
export interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>
}

/** What the store uses of a node-redis 4/5 Cluster (`createCluster()` from `redis`). */
export interface NodeRedisCluster {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>
  /** The shards' masters, each reached with nodeClient(). */
  readonly masters: readonly object[]
  nodeClient(node: never): unknown
}

/** What the store uses of a node-redis 5 Sentinel client (`createSentinel()` from `redis`). */
export interface NodeRedisSentinel {
  sendCommand(isReadonly: boolean | undefined, args: string[]): Promise<unknown>
  /** Runs `fn` on one leased connection to the master. */
  use<T>(fn: (lease: NodeRedisSentinelLease) => Promise<T>): Promise<T>
  getMasterNode(): unknown
}

/** What the store uses of a connection a node-redis Sentinel client lends to `use()`. */
export interface NodeRedisSentinelLease {
  sendCommand(isReadonly: boolean | undefined, args: string[]): Promise<unknown>
}

/** The one method of an ioredis 5 client (`new Redis()`, also with `sentinels`) the store uses. */
export interface IoRedisClient {
  call(command: string, args: string[]): Promise<unknown>
}

/** What the store uses of an ioredis 5 Cluster (`new Redis.Cluster()`). */
export interface IoRedisCluster extends IoRedisClient {
  readonly isCluster: boolean
  /** The slot map: for each slot, `host:port` of its master first. */
  readonly slots: readonly (readonly string[])[]
  nodes(role: 'master'): readonly IoRedisNode[]
  /** Reloads the slot map from the cluster; calls back when done. */
  refreshSlotsCache(callback?: (err?: Error | null) => void): void
}

/** One node of an ioredis Cluster: a plain ioredis client with the address it connects to. */
export interface IoRedisNode extends IoRedisClient {
  readonly options: { readonly host?: string; readonly port?: number }
}

/** A connected client made and owned by the app: node-redis 4/5 (client, Cluster, Sentinel) or ioredis 5 (client, Cluster, Sentinel). */
export type RedisStoreClient = NodeRedisClient | NodeRedisCluster | NodeRedisSentinel | IoRedisClient | IoRedisCluster

/** Sends one command as its words, as redis-cli would, and answers its raw reply; `key` routes it on a Cluster. */
export type SendCommand = (args: string[], key?: string) => Promise<unknown>

/** The store's view of a client. */
export interface RedisTarget {
  /** 'cluster' when keys live on several masters, so no command may touch two keys of different slots. */
  readonly kind: 'single' | 'cluster'
  readonly send: SendCommand
  /** Runs `work` with a sender bound to the connection that writes `key`, so that a WAIT sent through it counts these writes. */
  onKeyNode<T>(key: string, work: (send: SendCommand) => Promise<T>): Promise<T>
  /** A sender for each master: all of them on a Cluster, the one master otherwise. */
  masters(): Promise<SendCommand[]>
}

type Shape = Partial<NodeRedisClient & IoRedisCluster & Omit<NodeRedisCluster, 'sendCommand'> & Omit<NodeRedisSentinel, 'sendCommand'>>

/** The target for `client`. ioredis has a `sendCommand` too, taking its own Command objects, so `call` is looked for first. */
export function targetOf(client: RedisStoreClient): RedisTarget {
  if (client === null || typeof client !== 'object') throw new TypeError('sessionkit/redis: `client` must be a node-redis or ioredis client')
  const shape = client as Shape
  if (typeof shape.call === 'function') {
    if (shape.isCluster === true && typeof shape.nodes === 'function') return ioCluster(client as IoRedisCluster)
    return single(ioSender(client as IoRedisClient))
  }
  if (typeof shape.sendCommand === 'function') {
    if (typeof shape.nodeClient === 'function' && Array.isArray(shape.masters)) return nodeCluster(client as NodeRedisCluster)
    if (typeof shape.use === 'function' && typeof shape.getMasterNode === 'function') return nodeSentinel(client as NodeRedisSentinel)
    const node = client as NodeRedisClient
    return single((args) => node.sendCommand(args))
  }
  throw new TypeError('sessionkit/redis: `client` has neither call() (ioredis) nor sendCommand() (node-redis)')
}

function ioSender(client: IoRedisClient): SendCommand {
  return (args) => client.call(args[0] as string, args.slice(1))
}

function single(send: SendCommand): RedisTarget {
  return { kind: 'single', send, onKeyNode: (_key, work) => work(send), masters: async () => [send] }
}

function nodeSentinel(client: NodeRedisSentinel): RedisTarget {
  const send: SendCommand = (args) => client.sendCommand(false, args)
  return {
    kind: 'single',
    send,
    // The sentinel client pools connections; a lease keeps the write and its WAIT on one of them.
    onKeyNode: (_key, work) => client.use((lease) => work((args) => lease.sendCommand(false, args))),
    masters: async () => [send],
  }
}

interface NodeRedisShard {
  host?: string
  port?: number
  client?: { isReady?: boolean }
}

/**
 * node-redis reloads its slot map only when a command meets MOVED, which a master that is dead never
 * answers: its slots would stay on the dead node for good. A connection failure therefore asks the
 * cluster for its map again, seeded from a master that is still up, at most once a second.
 */
function rediscovery(client: NodeRedisCluster): () => void {
  let last = 0
  return () => {
    const slots = (client as { _slots?: { rediscover?: (startWith: unknown) => Promise<void> } })._slots
    const live = (client.masters as NodeRedisShard[]).find((master) => master.client?.isReady === true)
    if (typeof slots?.rediscover !== 'function' || live?.host === undefined || Date.now() - last < 1000) return
    last = Date.now()
    slots.rediscover({ options: { socket: { host: live.host, port: live.port } } }).catch(() => {})
  }
}

// Errors of the connection rather than replies of Redis (which would mean the command ran).
const CONNECTION_FAILURE = /offline|socket closed|ECONN|EPIPE|connection|timeout|CLUSTERDOWN|TRYAGAIN/i

function nodeCluster(client: NodeRedisCluster): RedisTarget {
  const rediscover = rediscovery(client)
  // isReadonly false: every command goes to the key's master, so a read sees the last acknowledged write.
  const send: SendCommand = async (args, key) => {
    try {
      return await client.sendCommand(key, false, args)
    } catch (err) {
      if (CONNECTION_FAILURE.test(String((err as { message?: unknown } | null)?.message ?? ''))) rediscover()
      throw err
    }
  }
  return {
    kind: 'cluster',
    send,
    onKeyNode: (key, work) => work((args) => send(args, key)),
    async masters() {
      const clients = (await Promise.all(client.masters.map((master) => client.nodeClient(master as never)))) as NodeRedisClient[]
      return clients.map((node) => (args: string[]) => node.sendCommand(args))
    },
  }
}

function ioCluster(client: IoRedisCluster): RedisTarget {
  // ioredis finds the key of each command itself (EVALSHA's too) and sends it to that slot's master.
  const send = ioSender(client)
  const masterOf = (slot: number) => {
    const address = client.slots[slot]?.[0]
    return client.nodes('master').find((candidate) => `${candidate.options.host}:${candidate.options.port}` === address)
  }
  const refresh = () => new Promise<void>((resolve) => client.refreshSlotsCache(() => resolve()))
  return {
    kind: 'cluster',
    send,
    // Straight to the node, not through the Cluster's routing: a write redirected elsewhere would
    // leave the WAIT on a connection that never wrote, which answers at once. Going around the
    // routing also goes around its slot map upkeep, so a failover seen here refreshes the map.
    async onKeyNode(key, work) {
      const slot = keySlot(key)
      let node = masterOf(slot)
      if (node === undefined) {
        await refresh()
        node = masterOf(slot)
      }
      if (node === undefined) throw new Error(`sessionkit/redis: the Cluster client knows no master for slot ${slot}`)
      try {
        return await work(ioSender(node))
      } catch (err) {
        const message = String((err as { message?: unknown } | null)?.message ?? '')
        if (!message.startsWith('MOVED')) {
          // A closed connection, a refused one: the master may be gone; the next call asks the new map.
          if (!message.startsWith('NOSCRIPT')) void refresh()
          throw err
        }
        // MOVED: the node refused the command (so it did not run) because the slot has a new master.
        await refresh()
        const moved = masterOf(slot)
        if (moved === undefined || moved === node) throw err
        return work(ioSender(moved))
      }
    },
    masters: async () => client.nodes('master').map(ioSender),
  }
}

/** The Cluster slot of `key`: CRC16 (XMODEM) of its hash tag, or of the whole key without one, mod 16384. */
export function keySlot(key: string): number {
  let hashed = key
  const open = key.indexOf('{')
  if (open >= 0) {
    const close = key.indexOf('}', open + 1)
    if (close > open + 1) hashed = key.slice(open + 1, close)
  }
  let crc = 0
  for (const byte of Buffer.from(hashed, 'utf8')) {
    crc ^= byte << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc % 16384
}

/** A Lua script run by its SHA1 (one round trip), sent in full only when Redis does not have it yet. */
export class Script {
  readonly #source: string
  readonly #sha: string

  constructor(source: string) {
    this.#source = source
    this.#sha = createHash('sha1').update(source).digest('hex')
  }

  /** Runs the script on `keys` (all in one slot: the first routes it). */
  run(send: SendCommand, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args]
    // A plain .catch rather than an async function: one Promise less on every store call.
    return send(['EVALSHA', this.#sha, ...tail], keys[0]).catch((err: unknown) => {
      // After a restart, SCRIPT FLUSH or a failover Redis no longer has it; EVAL loads it again.
      if (!String((err as { message?: unknown } | null)?.message ?? '').startsWith('NOSCRIPT')) throw err
      return send(['EVAL', this.#source, ...tail], keys[0])
    })
  }
}
