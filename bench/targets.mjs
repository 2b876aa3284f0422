// The scenarios and the targets of issue 4, shared by the runner (PASS/FAIL) and the chart.

export const SCENARIOS = [
  { key: 'hello', label: '/hello, no cookie', path: '/hello', cookie: false, target: 0.95 },
  { key: 'new', label: '/count, new session', path: '/count', cookie: false, target: 0.75 },
  { key: 'read', label: '/read, with cookie', path: '/read', cookie: true, target: 0.88 },
  { key: 'count', label: '/count, with cookie', path: '/count', cookie: true, target: 0.85 },
]

/** At least this many times express-session's throughput, same framework, store and scenario. */
export const VS_EXPRESS_SESSION = 1.5
/** The sweeper may not block the event loop for longer than this at a time. */
export const SWEEP_MAX_BLOCK_MS = 10

/** Every target that the result has the numbers for, each with pass, actual and target. */
export function checkTargets(result) {
  const targets = []
  for (const group of result.groups) {
    const where = `${group.framework}/${group.store}`
    for (const scenario of SCENARIOS) {
      const row = group.scenarios[scenario.key]?.sessionkit
      if (!row) continue
      if (row.vsNone !== undefined) {
        targets.push({ name: `${where} ${scenario.label}: sessionkit vs no session`, actual: `${row.vsNone.toFixed(2)}×`, target: `≥ ${scenario.target}×`, pass: row.vsNone >= scenario.target })
      }
      if (row.vsExpressSession !== undefined) {
        targets.push({ name: `${where} ${scenario.label}: sessionkit vs express-session`, actual: `${row.vsExpressSession.toFixed(2)}×`, target: `≥ ${VS_EXPRESS_SESSION}×`, pass: row.vsExpressSession >= VS_EXPRESS_SESSION })
      }
    }
  }
  const memory = result.memory
  if (memory?.sessionkit && memory?.expressSession) {
    const ours = memory.sessionkit.bytesPerSession
    const theirs = memory.expressSession.bytesPerSession
    targets.push({ name: 'MemoryStore heap per session vs express-session', actual: `${Math.round(ours)} B vs ${Math.round(theirs)} B`, target: '≤ express-session', pass: ours <= theirs })
    // Not one of the targets, but the same promise once every session has been touched.
    const oursTouched = memory.sessionkit.bytesPerSessionAfterTouch
    const theirsTouched = memory.expressSession.bytesPerSessionAfterTouch
    if (oursTouched !== undefined && theirsTouched !== undefined) {
      targets.push({ name: 'MemoryStore heap per session after a touch of each, vs express-session', actual: `${Math.round(oursTouched)} B vs ${Math.round(theirsTouched)} B`, target: '≤ express-session', pass: oursTouched <= theirsTouched })
    }
  }
  if (memory?.sweep) {
    targets.push({ name: `sweeper, longest event-loop block while removing ${memory.sweep.expired} expired sessions`, actual: `${memory.sweep.maxDelayMs.toFixed(1)} ms`, target: `≤ ${SWEEP_MAX_BLOCK_MS} ms`, pass: memory.sweep.maxDelayMs <= SWEEP_MAX_BLOCK_MS })
  }
  return targets
}
