import type { Config } from '@react-router/dev/config'

// Server rendering: loaders and actions run on the server, where the session is.
export default { ssr: true } satisfies Config
